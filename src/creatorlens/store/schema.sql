-- The creatorlens store: what ingest writes and everything else reads.
-- No table holds the raw actor id of an anonymous-class event (view, profile_view, share, save).

CREATE TABLE IF NOT EXISTS accounts (
    account_id        VARCHAR PRIMARY KEY,
    kind              VARCHAR NOT NULL,
    is_private        BOOLEAN NOT NULL,
    birth_year        SMALLINT,
    gender            VARCHAR,
    country           VARCHAR,
    city              VARCHAR,
    language          VARCHAR,
    timezone          VARCHAR NOT NULL,
    analytics_opt_out BOOLEAN NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);

-- Every distinct version of an account ever received, so a later rule can be checked
-- against the settings in force at any time.
CREATE TABLE IF NOT EXISTS account_history (
    account_id        VARCHAR NOT NULL,
    kind              VARCHAR NOT NULL,
    is_private        BOOLEAN NOT NULL,
    birth_year        SMALLINT,
    gender            VARCHAR,
    country           VARCHAR,
    city              VARCHAR,
    language          VARCHAR,
    timezone          VARCHAR NOT NULL,
    analytics_opt_out BOOLEAN NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    received_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS videos (
    video_id    VARCHAR PRIMARY KEY,
    creator_id  VARCHAR NOT NULL,
    posted_at   TIMESTAMPTZ NOT NULL,
    duration_ms BIGINT NOT NULL,
    caption     VARCHAR,
    hashtags    VARCHAR[],
    sound_id    VARCHAR,
    category    VARCHAR,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- One row per accepted event. `creator_id` is the account the event is about (the owner of
-- the video, the target account, or the host of the LIVE). Every event with an actor and a
-- creator carries `viewer_pid`, the actor's keyed per-creator pseudonym (made with key
-- `key_id`); `actor_id` is kept only for named types and is NULL for anonymous-class ones.
-- The actor_* attributes are taken at ingest, at the event's time, so no later query needs
-- the raw id: the age bucket itself, the rest as `actor_profile`, a row of `actor_profiles`
-- (NULL when the actor has none of them). `events_with_attributes` spells them out.
CREATE TABLE IF NOT EXISTS events (
    event_id          VARCHAR NOT NULL,
    type              VARCHAR NOT NULL,
    ts                TIMESTAMPTZ NOT NULL,
    creator_id        VARCHAR,
    actor_id          VARCHAR,
    viewer_pid        UBIGINT,
    key_id            VARCHAR,
    video_id          VARCHAR,
    watched_ms        BIGINT,
    source            VARCHAR,
    channel           VARCHAR,
    comment_id        VARCHAR,
    text              VARCHAR,
    reply_to          VARCHAR,
    target_id         VARCHAR,
    new_video_id      VARCHAR,
    live_id           VARCHAR,
    gift_value        DOUBLE,
    actor_age_bucket  VARCHAR,
    actor_profile     INTEGER,
    actor_opt_out     BOOLEAN,
    actor_is_follower BOOLEAN,
    ingested_at       TIMESTAMPTZ NOT NULL
);

-- Each distinct combination of an actor's gender, country, city and language that events
-- refer to. Events keep one number where they would keep four texts: writing those four
-- texts was about a sixth of the work of writing the events themselves.
CREATE TABLE IF NOT EXISTS actor_profiles (
    profile_id INTEGER PRIMARY KEY,
    gender     VARCHAR,
    country    VARCHAR,
    city       VARCHAR,
    language   VARCHAR
);

-- Follow state changes (follow = true, unfollow = false), for "was this viewer a follower
-- of the creator at the time" without keeping the viewer's id on the view.
CREATE TABLE IF NOT EXISTS follow_log (
    follower_id VARCHAR NOT NULL,
    followee_id VARCHAR NOT NULL,
    ts          TIMESTAMPTZ NOT NULL,
    following   BOOLEAN NOT NULL
);

-- "Videos your followers watched": plays of any video by the followers of each creator,
-- counted at ingest (the only moment the viewer's id is known) and kept only as counts.
CREATE TABLE IF NOT EXISTS follower_watch_daily (
    followed_id VARCHAR NOT NULL,
    video_id    VARCHAR NOT NULL,
    day         DATE NOT NULL,
    plays       BIGINT NOT NULL,
    watch_ms    BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS lives (
    live_id    VARCHAR PRIMARY KEY,
    creator_id VARCHAR NOT NULL,
    started_at TIMESTAMPTZ NOT NULL
);

-- Records that failed validation, with the field and the reason. `record` is the record
-- as received, except that the actor id is dropped unless the type is known not to be
-- anonymous-class.
CREATE TABLE IF NOT EXISTS quarantine (
    quarantine_id  VARCHAR NOT NULL,
    entity         VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,
    record_no      BIGINT NOT NULL,
    event_id       VARCHAR,
    type           VARCHAR,
    field          VARCHAR NOT NULL,
    reason         VARCHAR NOT NULL,
    record         VARCHAR,
    quarantined_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS ingest_batches (
    source      VARCHAR NOT NULL,
    entity      VARCHAR NOT NULL,
    first_no    BIGINT NOT NULL,
    records     BIGINT NOT NULL,
    accepted    BIGINT NOT NULL,
    duplicates  BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL
);

-- The events with their actors' attributes spelled out, as they were before profiles.
CREATE VIEW IF NOT EXISTS events_with_attributes AS
SELECT e.* EXCLUDE (actor_profile),
       p.gender AS actor_gender,
       p.country AS actor_country,
       p.city AS actor_city,
       p.language AS actor_language
FROM events e
LEFT JOIN actor_profiles p ON p.profile_id = e.actor_profile;
