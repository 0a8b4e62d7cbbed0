#pragma once
// unique_ptr owners of the OpenSSL objects the JWT signing code uses.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

namespace cosync::auth {

struct OpensslFree {
  void operator()(BIO* b) const { BIO_free(b); }
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  void operator()(X509* x) const { X509_free(x); }
};
template <class T>
using OpensslPtr = std::unique_ptr<T, OpensslFree>;

}  // namespace cosync::auth
