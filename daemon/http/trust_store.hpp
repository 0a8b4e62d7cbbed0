#pragma once
// The trust anchors of HTTPS clients. Parsing the system CA bundle costs milliseconds of CPU and
// some 100 KB per copy, so it is done once per process and shared (OpenSSL stores are reference
// counted and safe to share read-only between SSL contexts and threads).
#include <openssl/types.h>

#include <cstddef>
#include <string>

namespace cosync::http {

// A new reference to the process-wide store of the system's trust anchors (loaded on first use).
// The caller owns the reference (SSL_CTX_set0_cert_store takes it). Throws when it cannot load.
X509_STORE* shared_system_trust_store();

// A new store: the system's anchors plus those of the PEM file `ca_file` (tests, private CAs).
// Throws when the file cannot be read.
X509_STORE* system_trust_store_with(const std::string& ca_file);

// How many times this process has loaded the system store (1 once any client exists).
std::size_t system_trust_store_loads();

}  // namespace cosync::http
