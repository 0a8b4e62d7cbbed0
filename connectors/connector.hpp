#pragma once
// The interface every connector implements (Partner Center, Salesforce, Dataverse). The
// engine only sees this: records as JSON, opaque versions and cursors, field changes by path.
// The records themselves live in records.hpp, which needs no Asio.
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/records.hpp"
#include "daemon/util/expected.hpp"

namespace cosync::connectors {

// What a connector can do beyond the common interface. Each connector type also answers it
// statically (SalesforceConnector::supported()), so that config validation can refuse a mapping
// its connection's connector cannot serve before anything connects.
struct Capabilities {
  // Resolves UpsertRequest::parent on create, with these names where the mapping gives none;
  // nullopt: crm.account cannot be used with it.
  std::optional<ParentDefaults> parent_lookup;
  bool describe_metadata = false;  // describe_object answers the CRM's field metadata
};

// One page of a pull as the API served it.
struct PullPage {
  std::vector<RemoteRecord> records;
  std::vector<MalformedRecord> malformed;
};
// Takes one page (its records may be moved out); false stops the pull.
using PageSink = std::function<boost::asio::awaitable<bool>(PullPage&)>;

class Connector {
 public:
  virtual ~Connector() = default;
  virtual const char* system() const = 0;
  virtual Capabilities capabilities() const { return {}; }

  // Records changed since `cursor` (empty: everything), oldest overlap included, handed to `sink`
  // one page at a time as the API serves them, so that a pull of any size takes the memory of a
  // page. A record served twice (pages shift while read) reaches the sink again only when newer
  // (PullDedupe). Returns where the next pull starts; a failure (or a sink that stopped it) means
  // the cursor must not move, though the pages already handed over were valid.
  virtual boost::asio::awaitable<Expected<std::string>> pull_pages(const ObjectSpec& spec, const std::string& cursor,
                                                                   const PageSink& sink) = 0;
  // The whole pull collected in memory, for callers that need all of it at once (`cosyncd plan`,
  // reports, tests); a cycle streams with pull_pages.
  boost::asio::awaitable<Expected<PullResult>> pull(const ObjectSpec& spec, const std::string& cursor) {
    PullResult result;
    std::unordered_map<std::string, std::size_t> at;  // id -> index: a copy handed on later is newer, kept
    PageSink collect = [&result, &at](PullPage& page) -> boost::asio::awaitable<bool> {
      for (auto& r : page.records) {
        auto [it, first] = at.emplace(r.id, result.records.size());
        if (first) result.records.push_back(std::move(r));
        else result.records[it->second] = std::move(r);
      }
      for (auto& m : page.malformed) result.malformed.push_back(std::move(m));
      co_return true;
    };
    auto next = co_await pull_pages(spec, cursor, collect);
    if (!next) co_return next.failure();
    result.cursor = std::move(*next);
    co_return result;
  }
  virtual boost::asio::awaitable<Expected<RemoteRecord>> get(const ObjectSpec& spec, const std::string& id) = 0;
  // Writes only `changes`, on condition that the record is still at `current.version`; a moved
  // record is a Failure of kind conflict. Returns the record as stored after the write.
  virtual boost::asio::awaitable<Expected<RemoteRecord>> update(const ObjectSpec& spec, const RemoteRecord& current,
                                                                const std::vector<FieldChange>& changes) = 0;
  // Creates the record whose external-id field holds `external_id`, or updates the one that
  // already does, so that a retry or restart never creates a second one.
  virtual boost::asio::awaitable<Expected<RemoteRecord>> upsert(const ObjectSpec& spec, const std::string& external_id,
                                                                const std::vector<FieldChange>& fields) = 0;

  // Batched writes: one result per request, in the same order. A connector whose API has bulk
  // writes (Salesforce sObject Collections) overrides these; the defaults send one call each.
  virtual boost::asio::awaitable<std::vector<Expected<RemoteRecord>>> update_many(
      const ObjectSpec& spec, const std::vector<UpdateRequest>& requests) {
    std::vector<Expected<RemoteRecord>> results;
    for (const auto& r : requests) results.push_back(co_await update(spec, r.current, r.changes));
    co_return results;
  }
  virtual boost::asio::awaitable<std::vector<Expected<RemoteRecord>>> upsert_many(
      const ObjectSpec& spec, const std::vector<UpsertRequest>& requests) {
    std::vector<Expected<RemoteRecord>> results;
    for (const auto& r : requests) results.push_back(co_await upsert(spec, r.external_id, r.fields));
    co_return results;
  }

  // Deal registration of a referral closed as Won (Partner Center only: `add /registrations/-`),
  // and later `replace`s of its fields ("registrations.0.contract.value"). Returns the referral as
  // stored after the write. Other connectors have no registrations: refused.
  virtual boost::asio::awaitable<Expected<RemoteRecord>> add_deal_registration(const RemoteRecord& current,
                                                                               const nlohmann::json& registration) {
    (void)registration;
    co_return Failure{FailureKind::rejected, std::string(system()) + " has no deal registration for " + current.id, 0, ""};
  }
  virtual boost::asio::awaitable<Expected<RemoteRecord>> update_deal_registration(
      const RemoteRecord& current, const std::vector<FieldChange>& changes) {
    (void)changes;
    co_return Failure{FailureKind::rejected, std::string(system()) + " has no deal registration for " + current.id, 0, ""};
  }

  // Makes each new lead of `lead_ids` a member of the campaign `campaign_id` (Salesforce
  // CampaignMember), so conversion is reported per campaign; one result per lead, in order:
  // nullopt when it is a member (already being one counts, so a retry adds none). Others: refused
  // (Dataverse sets the lead's campaign lookup on create instead).
  virtual boost::asio::awaitable<std::vector<std::optional<Failure>>> add_campaign_members(
      const std::string& campaign_id, const std::vector<std::string>& lead_ids) {
    const Failure refused{FailureKind::rejected, std::string(system()) + " has no campaign members for campaign " + campaign_id, 0, ""};
    co_return std::vector<std::optional<Failure>>(lead_ids.size(), refused);
  }

  // The object's field metadata (Salesforce describe, Dataverse EntityDefinitions). A connector
  // with nothing to check (Partner Center: fixed contract) answers a Failure of kind fatal.
  virtual boost::asio::awaitable<Expected<ObjectMetadata>> describe_object(const std::string& object) {
    co_return Failure{FailureKind::fatal, std::string(system()) + " has no metadata to describe " + object, 0, ""};
  }

  // The API's own clock (the Date header of its last answer, moved on by the host clock since);
  // nullopt before any answer, or for an API whose timestamps no deadline is measured against.
  virtual std::optional<TimePoint> remote_now() const { return std::nullopt; }

  // HTTP requests sent so far (token requests included), for the cycle summary.
  virtual std::size_t api_calls() const = 0;
  // The remote API's own usage report, e.g. "120/15000" (Salesforce api-usage); empty if none.
  virtual std::string api_usage() const { return {}; }
};

}  // namespace cosync::connectors
