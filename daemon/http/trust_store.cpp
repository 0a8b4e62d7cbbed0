#include "daemon/http/trust_store.hpp"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <atomic>
#include <memory>
#include <stdexcept>

namespace cosync::http {

namespace {

std::atomic<std::size_t> loads{0};

struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;

StorePtr load_system_store() {
  StorePtr store(X509_STORE_new());
  if (!store || X509_STORE_set_default_paths(store.get()) != 1)
    throw std::runtime_error("cannot load the system trust store");
  ++loads;
  return store;
}

// Loaded once, at first use (a function-local static: thread-safe initialisation).
X509_STORE* system_store() {
  static StorePtr store = load_system_store();
  return store.get();
}

}  // namespace

X509_STORE* shared_system_trust_store() {
  X509_STORE* store = system_store();
  X509_STORE_up_ref(store);
  return store;
}

X509_STORE* system_trust_store_with(const std::string& ca_file) {
  StorePtr store(X509_STORE_new());
  if (!store) throw std::runtime_error("cannot create a trust store");
  // The system anchors already parsed, by reference; the hashed directory stays a lazy lookup.
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(system_store());
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
    X509* cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
    if (cert) X509_STORE_add_cert(store.get(), cert);
  }
  X509_LOOKUP* dir = X509_STORE_add_lookup(store.get(), X509_LOOKUP_hash_dir());
  if (dir) X509_LOOKUP_add_dir(dir, X509_get_default_cert_dir(), X509_FILETYPE_PEM);
  if (X509_STORE_load_file(store.get(), ca_file.c_str()) != 1)
    throw std::runtime_error("cannot load ca_file '" + ca_file + "'");
  return store.release();
}

std::size_t system_trust_store_loads() { return loads.load(); }

}  // namespace cosync::http
