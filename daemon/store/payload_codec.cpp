#include "daemon/store/payload_codec.hpp"

#include <zlib.h>

#include <stdexcept>

namespace cosync::payload_codec {
namespace {

// Format byte 1: raw deflate (RFC 1951) against kDictionaryV1. The dictionary is part of the
// stored format: payloads written with it read back only with it, so it never changes; a better
// one would be format 2. It is an event payload's usual text (daemon/engine/event_payload.cpp,
// the referral contract, Salesforce and Dataverse records), the commonest strings last, where
// deflate reaches them with the shortest distances.
constexpr char kFormatV1 = '\x01';
constexpr std::string_view kDictionaryV1 =
    R"({"@odata.etag":"W/\"","_ownerid_value":"","_parentaccountid_value":"","companyname":"","leadid":"",)"
    R"("modifiedon":"","opportunityid":"","estimatedvalue":0,"statecode":0,"statuscode":1,"subject":"",)"
    R"("owninguser":{"fullname":"","internalemailaddress":"","systemuserid":""},"emailaddress1":"","firstname":"",)"
    R"("lastname":"","telephone1":"","address1_country":"","description":"","msdyn_partnercenterreferralid":"",)"
    R"("Amount":0.0,"CloseDate":"","StageName":"Prospecting","Name":"","AccountId":"","Opportunity","Account",)"
    R"("attributes":{"type":"Lead","url":"/services/data/v59.0/sobjects/Lead/"},"Email":"","FirstName":"",)"
    R"("LastName":"","Phone":"","LeadSource":"Partner Center","OwnerId":"005","Owner":{"Email":"","Name":""},)"
    R"("Tasks":null,"Events":null,"__completed_activities":0,"campaignId":"","referralProgram":"",)"
    R"("salesStage":"","statusReason":"","externalReferenceId":"","closingDateTime":"","industries":[],)"
    R"("products":[],"services":[],"target":"","organizationId":"","organizationName":"","invitedBy":{},)"
    R"("inviteContext":{"invitedBy":{"email":"","name":""},"notes":""},"phoneNumber":"","firstName":"",)"
    R"("lastName":"","email":"@microsoft.com","addressLine1":"","city":"","state":"","postalCode":"",)"
    R"("Won","Lost","Declined","Expired","Accepted","Active","Closed","Engaged","Received","Shared",)"
    R"("Outgoing","Co-sell","Partner","Dataverse","dynamics365","opportunity","lead",)"
    R"({"at":"2026-01-01T00:00:00.000Z","crm":{"AnnualRevenue":0.0,"Company":"","Country":"US",)"
    R"("Description":"","Id":"00Q","IsDeleted":false,"PartnerCenterReferralId__c":"",)"
    R"("Status":"Open - Not Contacted","SystemModstamp":"2026-01-01T00:00:00.000+0000"},"crm_id":"00Q",)"
    R"("crm_object":"Lead","crm_system":"salesforce","event":"received","mapping":"",)"
    R"("pc":{"_direction":"incoming","_kind":"qualified_lead","consent":{)"
    R"("consentToShareReferralWithMicrosoftSellers":false},"createdDateTime":"2026-01-01T00:00:00.000Z",)"
    R"("customerProfile":{"address":{"country":"US"},"name":"","size":"1to50employees","team":[]},)"
    R"("details":{"currency":"USD","dealValue":0.0,"notes":"","requirements":{"solutions":[]}},)"
    R"("direction":"Incoming","eTag":"\"-0000-0800-0000-\"","engagementId":"",)"
    R"("expirationDateTime":"2026-01-01T00:00:00.000Z","id":"","name":"","qualification":"SalesQualified",)"
    R"("status":"New","substatus":"Pending","team":[],"type":"Independent",)"
    R"("updatedDateTime":"2026-01-01T00:00:00.000Z"},"people":{"crm_owner":{},"customer_contacts":[],)"
    R"("invited_by":{},"microsoft_team":[],"partner_team":[]},"reason":"created Lead from referral ",)"
    R"("referral_id":"})";

const Bytef* bytes(std::string_view s) { return reinterpret_cast<const Bytef*>(s.data()); }

struct Deflater {
  z_stream z{};
  Deflater() {
    // Level 1: the dictionary does most of the work; higher levels cost CPU for a few bytes. A
    // 4 KB window still reaches the whole dictionary from a payload's first 1.5 KB; with the small
    // hash table (memLevel 4) a reset clears 4 KB instead of 64 KB. Inflate reads any window.
    if (deflateInit2(&z, 1, Z_DEFLATED, -12, 4, Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::runtime_error("outbox payload: cannot start deflate");
  }
  ~Deflater() { deflateEnd(&z); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
};

struct Inflater {
  z_stream z{};
  Inflater() {
    if (inflateInit2(&z, -15) != Z_OK) throw std::runtime_error("outbox payload: cannot start inflate");
  }
  ~Inflater() { inflateEnd(&z); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
};

}  // namespace

std::string pack(std::string_view json) {
  // One stream per thread, reset for each payload (deflate's state is a few hundred KB to set up).
  thread_local Deflater d;
  deflateReset(&d.z);
  deflateSetDictionary(&d.z, bytes(kDictionaryV1), static_cast<uInt>(kDictionaryV1.size()));
  std::string out(1 + deflateBound(&d.z, static_cast<uLong>(json.size())), '\0');
  out[0] = kFormatV1;
  d.z.next_in = const_cast<Bytef*>(bytes(json));
  d.z.avail_in = static_cast<uInt>(json.size());
  d.z.next_out = reinterpret_cast<Bytef*>(out.data() + 1);
  d.z.avail_out = static_cast<uInt>(out.size() - 1);
  if (deflate(&d.z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("outbox payload: deflate failed");
  out.resize(1 + d.z.total_out);
  return out;
}

std::string unpack(std::string_view stored) {
  if (stored.empty() || stored.front() != kFormatV1) return std::string(stored);
  thread_local Inflater i;
  inflateReset(&i.z);
  inflateSetDictionary(&i.z, bytes(kDictionaryV1), static_cast<uInt>(kDictionaryV1.size()));
  stored.remove_prefix(1);
  i.z.next_in = const_cast<Bytef*>(bytes(stored));
  i.z.avail_in = static_cast<uInt>(stored.size());
  std::string out;
  char chunk[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    i.z.next_out = reinterpret_cast<Bytef*>(chunk);
    i.z.avail_out = sizeof chunk;
    rc = inflate(&i.z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) throw std::runtime_error("outbox payload: corrupt (inflate failed)");
    out.append(chunk, sizeof chunk - i.z.avail_out);
    if (rc == Z_OK && i.z.avail_in == 0 && i.z.avail_out != 0)
      throw std::runtime_error("outbox payload: corrupt (truncated)");
  }
  return out;
}

}  // namespace cosync::payload_codec
