// Mail through SMTP with libcurl: implicit TLS (smtps://) or STARTTLS required (smtp://),
// certificates and host names verified, AUTH when a username is set. libcurl's transfer blocks,
// so it runs on the sender's blocking executor, never on the daemon's thread.
#include <curl/curl.h>
#include <openssl/evp.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <cstring>
#include <ctime>
#include <mutex>

#include "daemon/cli/notify/sink.hpp"
#include "daemon/util/remote_json.hpp"
#include "daemon/util/uuid.hpp"

namespace cosync::notify {
namespace net = boost::asio;

namespace {

// A header value on one line: a CR or LF in remote data must not start a header of its own.
std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  return s;
}

// RFC 2047 encoded-word when the text is not plain ASCII.
std::string header_text(const std::string& s) {
  bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return s;
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  out.resize(static_cast<std::size_t>(n));
  return "=?UTF-8?B?" + out + "?=";
}

std::string joined(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& a : list) out += (out.empty() ? "" : ", ") + one_line(a);
  return out;
}

struct Upload {
  std::string data;
  std::size_t at = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* u = static_cast<Upload*>(user);
  std::size_t n = std::min(size * count, u->data.size() - u->at);
  std::memcpy(buffer, u->data.data() + u->at, n);
  u->at += n;
  return n;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

std::optional<Failure> classify(CURLcode rc, long smtp_code, const char* error) {
  if (rc == CURLE_OK) return std::nullopt;
  std::string message = std::string("SMTP: ") + (*error ? error : curl_easy_strerror(rc));
  if (smtp_code) message += " (server answered " + std::to_string(smtp_code) + ")";
  FailureKind kind = FailureKind::transient;
  if (rc == CURLE_LOGIN_DENIED) kind = FailureKind::auth;
  else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_USE_SSL_FAILED)
    kind = FailureKind::fatal;
  else if (smtp_code >= 500) kind = FailureKind::rejected;  // 5xx: permanent (RFC 5321 4.2.1)
  return Failure{kind, message, static_cast<int>(smtp_code), ""};
}

// One SMTP transaction: every recipient (To and Cc) in the envelope.
std::optional<Failure> transfer(const SmtpOptions& o, const Message& m, std::string text) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Failure{FailureKind::transient, "SMTP: cannot initialise libcurl", 0, ""};
  CURL* c = curl.get();
  curl_slist* rcpt = nullptr;
  for (const auto* list : {&m.to, &m.cc})
    for (const auto& a : *list) rcpt = curl_slist_append(rcpt, ("<" + one_line(a) + ">").c_str());
  std::unique_ptr<curl_slist, CurlDeleter> rcpt_owner(rcpt);
  Upload upload{std::move(text)};
  char error[CURL_ERROR_SIZE] = {0};
  std::string from = "<" + one_line(o.from) + ">";
  curl_easy_setopt(c, CURLOPT_URL, o.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_USE_SSL, o.plain_to_loopback ? static_cast<long>(CURLUSESSL_NONE) : static_cast<long>(CURLUSESSL_ALL));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!o.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_file.c_str());
  if (!o.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, o.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, o.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(o.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(std::min<long long>(o.timeout.count(), 10)));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  return classify(rc, code, error);
}

class SmtpSink final : public Sink {
 public:
  SmtpSink(SmtpOptions o, net::any_io_executor blocking, const Clock& clock)
      : options_(std::move(o)), blocking_(std::move(blocking)), clock_(clock) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }
  bool needs_recipients() const override { return true; }
  net::awaitable<Status> send(const Message& m) override {
    auto run = [o = options_, m, text = mime_message(options_.from, m, clock_.now())]()
        -> net::awaitable<std::optional<Failure>> { co_return transfer(o, m, text); };
    auto failure = co_await net::co_spawn(blocking_, std::move(run), net::use_awaitable);
    if (failure) co_return *failure;
    co_return ok_status();
  }

 private:
  SmtpOptions options_;
  net::any_io_executor blocking_;
  const Clock& clock_;
};

// One body with its headers: UTF-8, 8bit, bare LF turned into CRLF (libcurl dot-stuffs the lines).
std::string text_part(const std::string& type, const std::string& body) {
  std::string out = "Content-Type: " + type + "; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n";
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r')) out += '\r';
    out += body[i];
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

}  // namespace

std::string mime_message(const std::string& from, const Message& m, TimePoint now) {
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string out = "Date: " + std::string(date) + "\r\nFrom: " + one_line(from) + "\r\nTo: " + joined(m.to) + "\r\n";
  if (!m.cc.empty()) out += "Cc: " + joined(m.cc) + "\r\n";
  out += "Subject: " + header_text(one_line(m.subject)) + "\r\nMessage-ID: " + one_line(m.message_id) +
         "\r\nMIME-Version: 1.0\r\nX-Cosync-Event: " + one_line(remote_json::string_or(m.event, "event")) + "\r\n";
  if (m.html.empty()) return out + text_part("text/plain", m.body);
  // Both bodies: mail clients show the last part they can render (RFC 2046 5.1.4).
  std::string boundary = "=_cosync_" + random_uuid();
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n" + text_part("text/plain", m.body);
  out += "--" + boundary + "\r\n" + text_part("text/html", m.html);
  return out + "--" + boundary + "--\r\n";
}

std::unique_ptr<Sink> make_smtp_sink(const SmtpOptions& o, net::any_io_executor blocking, const Clock& clock) {
  return std::make_unique<SmtpSink>(o, std::move(blocking), clock);
}

}  // namespace cosync::notify
