/**
 * The schema, as an ordered list of migrations. A migration, once released, is never edited:
 * a change is a new entry with the next version. Each runs in its own transaction.
 *
 * Conventions: times are integer milliseconds since the epoch; JSON columns are TEXT checked with
 * json_valid; tables are STRICT so a wrong type fails at write, not at read. Enums that grow with
 * the code (run state, language) are checked by the TypeScript side, not by CHECK constraints, so
 * adding a state needs no table rebuild.
 */
export interface Migration {
  /** 1, 2, 3…: strictly increasing, no gaps. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE projects (
  id          TEXT PRIMARY KEY,
  owner       TEXT NOT NULL,
  name        TEXT NOT NULL,
  source      TEXT NOT NULL CHECK (source IN ('upload', 'example')),
  dir         TEXT NOT NULL,
  file_count  INTEGER NOT NULL CHECK (file_count >= 0),
  total_bytes INTEGER NOT NULL CHECK (total_bytes >= 0),
  created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX projects_by_owner ON projects (owner, created_at, id);

CREATE TABLE runs (
  id                TEXT PRIMARY KEY,
  owner             TEXT NOT NULL,
  kind              TEXT NOT NULL CHECK (kind IN ('snippet', 'tool')),
  language          TEXT,
  tool_id           TEXT,
  project_id        TEXT REFERENCES projects (id) ON DELETE SET NULL,
  request           TEXT NOT NULL CHECK (json_valid(request)),
  limits            TEXT NOT NULL CHECK (json_valid(limits)),
  state             TEXT NOT NULL,
  priority          INTEGER NOT NULL DEFAULT 0,
  queued_at         INTEGER NOT NULL,
  started_at        INTEGER,
  finished_at       INTEGER,
  exit_code         INTEGER,
  signal            TEXT,
  duration_ms       INTEGER,
  cpu_ms            INTEGER,
  peak_memory_bytes INTEGER,
  warnings          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(warnings)),
  error             TEXT,
  value             TEXT CHECK (value IS NULL OR json_valid(value)),
  stdout_bytes      INTEGER,
  stderr_bytes      INTEGER,
  output_lines      INTEGER,
  last_seq          INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX runs_by_owner ON runs (owner, queued_at, id);
CREATE INDEX runs_by_time ON runs (queued_at, id);
CREATE INDEX runs_by_state ON runs (state, queued_at, id);
CREATE INDEX runs_by_project ON runs (project_id) WHERE project_id IS NOT NULL;

CREATE TABLE run_events (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq    INTEGER NOT NULL CHECK (seq >= 1),
  at     INTEGER NOT NULL,
  type   TEXT NOT NULL,
  data   TEXT NOT NULL CHECK (json_valid(data)),
  PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE artifacts (
  run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  path        TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('file', 'symlink')),
  size        INTEGER NOT NULL CHECK (size >= 0),
  sha256      TEXT,
  media_type  TEXT NOT NULL,
  link_target TEXT,
  PRIMARY KEY (run_id, path)
) STRICT, WITHOUT ROWID;
`,
  },
  {
    version: 2,
    name: 'runs remember their example',
    // For "run again": a tool run on a bundled example names it (its request only has a path).
    sql: `ALTER TABLE runs ADD COLUMN example_id TEXT;`,
  },
  {
    version: 3,
    name: 'notes of the store itself',
    // The redis driver's cursor in its message stream, written with the events it relayed.
    sql: `CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT, WITHOUT ROWID;`,
  },
  {
    version: 4,
    name: 'signed callbacks and their outbox',
    // A run's callback (written with the run), the deliveries its end enqueues (written in the
    // end's own transaction), and every attempt of each (callbacks/, store/outbox.ts).
    sql: `
CREATE TABLE run_callbacks (
  run_id    TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  url       TEXT NOT NULL,
  secret_id TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE callback_deliveries (
  id               TEXT PRIMARY KEY,
  run_id           TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  event_type       TEXT NOT NULL,
  url              TEXT NOT NULL,
  secret_id        TEXT NOT NULL,
  summary          TEXT NOT NULL CHECK (json_valid(summary)),
  state            TEXT NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  round_attempts   INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  round_started_at INTEGER NOT NULL,
  next_attempt_at  INTEGER,
  last_attempt_at  INTEGER,
  last_status      INTEGER,
  last_error       TEXT,
  delivered_at     INTEGER,
  UNIQUE (run_id, event_type)
) STRICT;
CREATE INDEX callback_deliveries_due ON callback_deliveries (next_attempt_at)
  WHERE state = 'pending';
CREATE INDEX callback_deliveries_by_time ON callback_deliveries (created_at, id);

CREATE TABLE callback_attempts (
  delivery_id TEXT NOT NULL REFERENCES callback_deliveries (id) ON DELETE CASCADE,
  n           INTEGER NOT NULL CHECK (n >= 1),
  at          INTEGER NOT NULL,
  address     TEXT,
  status      INTEGER,
  outcome     TEXT NOT NULL,
  error       TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, n)
) STRICT, WITHOUT ROWID;
`,
  },
  {
    version: 5,
    name: 'verdicts of snippets with an expected output',
    // The run's stdout judged against its expectedOutput (JSON; NULL when it was sent none).
    sql: `ALTER TABLE runs ADD COLUMN verdict TEXT CHECK (verdict IS NULL OR json_valid(verdict));`,
  },
  {
    version: 6,
    name: 'sessions and their cells',
    // A session (store/session-store.ts): its settings, state, last snapshot of variables (JSON)
    // and how its kernel last started (notice). Its cells are runs naming it in session_id; the
    // runs.kind CHECK predates cells, so a cell's row says `snippet` there and `cell` in its
    // request (run-row.ts reads it back as a cell).
    sql: `
CREATE TABLE sessions (
  id              TEXT PRIMARY KEY,
  owner           TEXT NOT NULL,
  language        TEXT NOT NULL,
  limits          TEXT NOT NULL CHECK (json_valid(limits)),
  idle_ttl_ms     INTEGER NOT NULL CHECK (idle_ttl_ms > 0),
  max_lifetime_ms INTEGER NOT NULL CHECK (max_lifetime_ms > 0),
  state           TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  last_active_at  INTEGER NOT NULL,
  closed_at       INTEGER,
  close_reason    TEXT,
  snapshot        TEXT CHECK (snapshot IS NULL OR json_valid(snapshot)),
  snapshot_at     INTEGER,
  notice          TEXT CHECK (notice IS NULL OR json_valid(notice))
) STRICT;
CREATE INDEX sessions_by_owner ON sessions (owner, created_at, id);
CREATE INDEX sessions_by_state ON sessions (state, last_active_at);
ALTER TABLE runs ADD COLUMN session_id TEXT REFERENCES sessions (id) ON DELETE SET NULL;
CREATE INDEX runs_by_session ON runs (session_id, queued_at, id) WHERE session_id IS NOT NULL;
`,
  },
  {
    version: 7,
    name: "a session's dependency environment",
    // The named environment (RUNBOX_ENVIRONMENTS) its kernel starts with; NULL for none.
    sql: `ALTER TABLE sessions ADD COLUMN environment TEXT;`,
  },
];
