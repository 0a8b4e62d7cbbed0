#include "daemon/store/migrations.hpp"

namespace cosync {

const std::vector<const char*>& schema_migrations() {
  static const std::vector<const char*> migrations = {
      // 1: links with shadows, cursors, pending creates, quarantine.
      R"sql(
      CREATE TABLE links (
        mapping     TEXT NOT NULL,
        pc_id       TEXT NOT NULL,
        crm_id      TEXT NOT NULL,
        pc_version  TEXT NOT NULL DEFAULT '',
        crm_version TEXT NOT NULL DEFAULT '',
        shadow      TEXT NOT NULL DEFAULT '{}',
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        PRIMARY KEY (mapping, pc_id),
        UNIQUE (mapping, crm_id)
      );
      CREATE TABLE cursors (
        mapping    TEXT NOT NULL,
        side       TEXT NOT NULL,
        value      TEXT NOT NULL,
        updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        PRIMARY KEY (mapping, side)
      );
      CREATE TABLE pending_creates (
        mapping    TEXT NOT NULL,
        side       TEXT NOT NULL,
        key        TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        PRIMARY KEY (mapping, side, key)
      );
      CREATE TABLE quarantine (
        id         INTEGER PRIMARY KEY,
        mapping    TEXT NOT NULL,
        side       TEXT NOT NULL,
        record_id  TEXT NOT NULL,
        reason     TEXT NOT NULL,
        request_id TEXT NOT NULL DEFAULT '',
        attempts   INTEGER NOT NULL DEFAULT 1,
        first_seen TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        last_seen  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        UNIQUE (mapping, side, record_id)
      );
      )sql",
      // 2: audit trail, last cycle per mapping, quarantine retry schedule.
      R"sql(
      CREATE TABLE audit (
        id         INTEGER PRIMARY KEY,
        at         TEXT NOT NULL,
        mapping    TEXT NOT NULL,
        pc_id      TEXT NOT NULL,
        crm_id     TEXT NOT NULL,
        field      TEXT NOT NULL,
        old_value  TEXT NOT NULL,
        new_value  TEXT NOT NULL,
        origin     TEXT NOT NULL,
        kind       TEXT NOT NULL,
        detail     TEXT NOT NULL DEFAULT '',
        request_id TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX audit_by_time ON audit (at);
      CREATE INDEX audit_by_record ON audit (mapping, pc_id);
      CREATE TABLE cycles (
        mapping     TEXT PRIMARY KEY,
        finished_at TEXT NOT NULL,
        result      TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        summary     TEXT NOT NULL
      );
      ALTER TABLE quarantine ADD COLUMN next_retry TEXT NOT NULL DEFAULT '';
      )sql",
      // 3: tombstones of links whose CRM record was deleted, so the pair is not recreated.
      R"sql(
      CREATE TABLE tombstones (
        mapping TEXT NOT NULL,
        pc_id   TEXT NOT NULL,
        crm_id  TEXT NOT NULL,
        reason  TEXT NOT NULL,
        at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        PRIMARY KEY (mapping, pc_id)
      );
      )sql",
      // 4: writes in flight per link, so a crash cannot turn cosync's own write into an "edit".
      R"sql(
      ALTER TABLE links ADD COLUMN pending TEXT NOT NULL DEFAULT '{}';
      )sql",
      // 5: orphaned links (one side answered 404): kept with their last values, never written again.
      R"sql(
      ALTER TABLE links ADD COLUMN orphaned_at TEXT NOT NULL DEFAULT '';
      ALTER TABLE links ADD COLUMN orphan_reason TEXT NOT NULL DEFAULT '';
      )sql",
      // 6: the canonical values a create sends, so a restart that links the record it made knows them.
      R"sql(
      ALTER TABLE pending_creates ADD COLUMN intent TEXT NOT NULL DEFAULT '{}';
      )sql",
      // 7: the quarantine entries due for retry are found without scanning the whole quarantine.
      R"sql(
      CREATE INDEX quarantine_due ON quarantine (mapping, next_retry);
      )sql",
      // 8: actions a rule holds until a time (e.g. Won no earlier than 72 h after creation): the
      // record joins the cycle when `until` comes, across restarts, even if nothing changed.
      R"sql(
      CREATE TABLE held_actions (
        mapping TEXT NOT NULL,
        pc_id   TEXT NOT NULL,
        key     TEXT NOT NULL,
        until   TEXT NOT NULL,
        reason  TEXT NOT NULL,
        at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        PRIMARY KEY (mapping, pc_id, key)
      );
      CREATE INDEX held_actions_due ON held_actions (mapping, until);
      )sql",
      // 9: the notification outbox: events committed with the change that caused them, and a
      // delivery per event and notification rule with its retry state (README "Notifications").
      R"sql(
      CREATE TABLE outbox (
        id         INTEGER PRIMARY KEY,
        at         TEXT NOT NULL,
        mapping    TEXT NOT NULL,
        pc_id      TEXT NOT NULL,
        crm_id     TEXT NOT NULL,
        event      TEXT NOT NULL,
        payload    TEXT NOT NULL,
        dispatched INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX outbox_undispatched ON outbox (dispatched, id);
      CREATE TABLE deliveries (
        id           INTEGER PRIMARY KEY,
        event_id     INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
        rule         TEXT NOT NULL,
        message_id   TEXT NOT NULL,
        status       TEXT NOT NULL DEFAULT 'pending',
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL DEFAULT '',
        last_error   TEXT NOT NULL DEFAULT '',
        sent_at      TEXT NOT NULL DEFAULT '',
        UNIQUE (event_id, rule)
      );
      CREATE INDEX deliveries_due ON deliveries (status, next_attempt);
      )sql",
      // 10: a referral's last event (StateStore::last_event, asked before every event is written)
      // found by the index instead of a scan of the whole outbox: a bulk of N creates was O(N^2).
      R"sql(
      CREATE INDEX outbox_by_referral ON outbox (mapping, pc_id, id);
      )sql",
      // 11: outbox payloads are written packed (daemon/store/payload_codec.hpp), a BLOB in the
      // TEXT column: no table changes, but a cosyncd older than this reads them as empty, so
      // the version tells it to refuse the database (a downgrade) instead.
      R"sql(
      SELECT 1;
      )sql",
      // 12: the audit is read by mapping and kind (audit_count) and newest first (audit), never
      // by referral: an index on (mapping, pc_id) had a random key per row, so each commit of a
      // bulk rewrote most of its pages into the WAL. Entries of one kind append at its end.
      R"sql(
      DROP INDEX audit_by_record;
      CREATE INDEX audit_by_kind ON audit (mapping, kind);
      )sql",
      // 13: a referral's last event (Journal::event asks before writing one) is kept on its link
      // instead of found by outbox_by_referral: that index had a random key per event, so each
      // commit of a bulk rewrote about one 4 KB index page per record into the WAL (issue 18),
      // while the link's row is written in the same commit anyway. cosync's own events (pc_id
      // '', e.g. sign-in health) keep a small index of their own; existing links take their
      // newest event before the index goes.
      R"sql(
      ALTER TABLE links ADD COLUMN last_event INTEGER NOT NULL DEFAULT 0;
      UPDATE links SET last_event = COALESCE(
        (SELECT max(o.id) FROM outbox o WHERE o.mapping = links.mapping AND o.pc_id = links.pc_id), 0);
      DROP INDEX outbox_by_referral;
      CREATE INDEX outbox_own ON outbox (mapping, id) WHERE pc_id = '';
      )sql",
  };
  return migrations;
}

}  // namespace cosync
