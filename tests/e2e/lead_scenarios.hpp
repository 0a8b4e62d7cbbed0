#pragma once
// The lead scenarios every CRM must pass, through its shipped leads mapping (pc-sf-leads,
// pc-dataverse-leads). Each test case of leads_sync_test.cpp, salesforce_e2e_test.cpp and
// dataverse_e2e_test.cpp that names one runs it for its CRM; what only one CRM does (a $batch,
// an audit row) is checked inside for that CRM.
#include "tests/e2e/e2e_harness.hpp"

namespace cosync::testing {

// A new incoming lead becomes exactly one CRM lead, linked both ways; a second run writes nothing.
void new_lead_becomes_one_linked_crm_lead(Crm crm);
// A status change in the CRM moves the referral through one JSON Patch with If-Match.
void crm_status_change_patches_the_referral(Crm crm);
// Edits on both sides flow across in one cycle; the next is quiet.
void edits_on_both_sides_flow_across(Crm crm);
// A lead deleted in the CRM reaches the engine as a deletion.
void crm_delete_reaches_the_engine(Crm crm);

}  // namespace cosync::testing
