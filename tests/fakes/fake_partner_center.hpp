#pragma once
// Stateful fake of the Partner Center referrals API (https://api.partner.microsoft.com/v1.0/engagements),
// served at the root: the base URL is http://127.0.0.1:PORT and requests go to /referrals..., as
// they do through Prism. Implements paging (server-driven at 100 per page with @odata.nextLink;
// $top the total, $skip, $orderby, $filter),
// eTags with If-Match (412), JSON Patch on the contract's allowed paths, the status state machine
// (New -> Active -> Closed, terminal Closed), PC-format errors, and scripted faults.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/util/clock.hpp"
#include "tests/fakes/fault_queue.hpp"
#include "tests/fakes/http_test_server.hpp"
#include "tests/fakes/ranked_set.hpp"

namespace cosync::fakes {

struct FakePartnerCenterOptions {
  const Clock* clock = nullptr;  // nullptr: the system clock; must outlive the fake
  unsigned short port = 0;       // 0: ephemeral
  // Checks the bearer token (e.g. FakeTokenServer::validator()); empty: any token is accepted.
  std::function<bool(std::string_view)> validate_token;
  // The service's own page size: a listing longer than this is paged with @odata.nextLink. $top
  // is not a page size but the total to retrieve (see FakePartnerCenter::list).
  int page_size = 100;
  // PC refuses Closed/Won earlier than this after createdDateTime; zero disables the check.
  std::chrono::hours won_hold{72};
  EventSink on_event;  // optional: one line per write accepted
  // Base of "@odata.nextLink" (e.g. a Prism proxy's address); empty: this server's base URL.
  std::string public_base_url;
  // An incoming referral still New this long after it was created (its expirationDateTime, when
  // set) becomes Closed/Expired, as PC does after 14 days; zero disables it. Time is `clock`'s.
  std::chrono::hours expire_after{14 * 24};
};

class FakePartnerCenter {
 public:
  explicit FakePartnerCenter(FakePartnerCenterOptions options = {});

  std::string base_url() const { return server_.base_url(); }

  // Seeds a referral: `partial` is merged (RFC 7386) over defaults (id, eTag, timestamps, type
  // Independent, direction Incoming, status New/Pending, customerProfile, details...). Returns the id.
  std::string add_referral(nlohmann::json partial);
  nlohmann::json referral(const std::string& id) const;  // null when unknown
  std::vector<nlohmann::json> all_referrals() const;     // in creation order
  // A seller's edit in PC: applies `change`, then bumps eTag and updatedDateTime. `change` runs
  // under the fake's lock: it must not call back into the fake.
  void edit(const std::string& id, const std::function<void(nlohmann::json&)>& change);
  // Microsoft's review of the referral's deal registration (tests/fakes/fake_registrations.hpp):
  // ReviewPending -> ActionRequired -> Approved or Rejected, with `reason`; false when it has none.
  bool review_registration(const std::string& id, const std::string& status, const std::string& reason = "");
  // Deletes a referral, as Microsoft does with a withdrawn one: every request for it answers 404.
  void remove(const std::string& id);
  // The next PATCH/PUT of referral `id` is preceded by `change` applied as a seller's edit (new
  // eTag), so cosync's write carries a stale eTag: an edit landing between its read and its
  // write. An empty `change` removes the referral instead, so the write answers 404.
  void interfere_before_next_write(const std::string& id, std::function<void(nlohmann::json&)> change);
  // Disarms it; true when it was still armed (no write came).
  bool cancel_interference(const std::string& id);
  // Successful writes (POST, PATCH, PUT) so far.
  int writes() const;
  // Applies the 14-day expiry now (requests apply it too); returns how many referrals expired.
  int expire_due();
  // Moves Partner Center's clock alone (its Date header, timestamps, Won hold, expiry) by `by`
  // from `clock`: a host clock hours ahead of or behind the service's.
  void shift_clock(std::chrono::system_clock::duration by) { clock_shift_ += by.count(); }
  TimePoint service_now() const { return clock_.now() + TimePoint::duration(clock_shift_.load()); }

  // Faults, applied to the next requests before authentication and routing.
  void fail_next(int count, int status, std::optional<int> retry_after_seconds = std::nullopt,
                 std::string body = {}) {
    faults_.fail_next(count, status, retry_after_seconds, std::move(body));
  }
  void serve_malformed_next(int count) { faults_.serve_malformed_next(count); }
  // The next POST /referrals is refused with 400, as the service refuses a body it cannot take.
  void refuse_next_create(std::string message) {
    std::lock_guard lock(mu_);
    refuse_next_create_ = std::move(message);
  }

  // Deal registrations (`add /registrations/-`) are refused with 400 and `message` while it is set
  // (a registration the service will not take); nullopt takes them again.
  void refuse_registrations(std::optional<std::string> message) {
    std::lock_guard lock(mu_);
    refuse_registrations_ = std::move(message);
  }

  HttpTestServer& server() { return server_; }

 private:
  struct Stored {
    std::uint64_t seq;  // creation order, breaks ties when sorting
    nlohmann::json referral;
  };
  // The referrals in the order of one field ($orderby), ascending, ties by creation order: a
  // listing's page is a range of positions (descending: counted from the end). Built on the
  // first listing by that field, kept up to date by reindex/unindex at every change.
  struct OrderKey {
    nlohmann::json value;  // the field's value (null when absent)
    std::uint64_t seq;
    std::string id;  // not compared
  };
  struct OrderKeyLess {
    bool operator()(const OrderKey& a, const OrderKey& b) const {
      if (a.value != b.value) return a.value < b.value;
      return a.seq < b.seq;
    }
  };
  struct OrderIndex {
    RankedSet<OrderKey, OrderKeyLess> keys;
    std::map<std::uint64_t, nlohmann::json> value_of;  // seq -> the value it is indexed under
  };

  FakeResponse handle(const FakeRequest& request);
  FakeResponse list(const FakeRequest& request);
  FakeResponse create(const FakeRequest& request);
  FakeResponse update(const FakeRequest& request, const std::string& id);
  // Checks the state machine from `before` to `after`; an error message, or empty when allowed.
  std::string check_transition(const nlohmann::json& before, const nlohmann::json& after) const;
  void stamp(nlohmann::json& referral);  // new eTag and updatedDateTime
  int expire_unanswered();               // under mu_: New referrals past their expiry -> Closed/Expired
  void emit(const std::string& line) const;
  // Under mu_: after `stored` was added or changed / before it goes away.
  void reindex(const std::string& id, const Stored& stored);
  void unindex(const Stored& stored);
  OrderIndex& order_index(const std::string& field);
  // Under mu_: the listing's rows [begin, end) in the order of `field`.
  std::vector<const Stored*> ordered_page(const std::string& field, bool descending, std::size_t begin,
                                          std::size_t end);

  SystemClock system_clock_;
  const Clock& clock_;
  std::atomic<TimePoint::rep> clock_shift_{0};  // see shift_clock
  FakePartnerCenterOptions options_;
  FaultQueue faults_;
  mutable std::mutex mu_;
  std::map<std::string, Stored> referrals_;
  std::map<std::string, OrderIndex> order_indexes_;  // by field
  std::map<std::string, std::function<void(nlohmann::json&)>> interference_;  // by referral id
  std::uint64_t next_seq_ = 0;
  int writes_ = 0;
  std::optional<std::string> refuse_next_create_;
  std::optional<std::string> refuse_registrations_;
  HttpTestServer server_;  // last: stops before the state above goes away
};

}  // namespace cosync::fakes
