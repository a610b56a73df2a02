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
-- the video, the target account, or the host of the LIVE). An anonymous-class event (view,
-- profile_view, share, save) carries `viewer_pid`, the actor's keyed per-creator pseudonym
-- (made with key `key_id`), and no `actor_id`; a named event carries `actor_id` and no
-- pseudonym, so no row links an account to its anonymous acts. A like's
-- `play_position_ms` is how far into the liker's play it came (see `engagement_marks`).
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
    ingested_at       TIMESTAMPTZ NOT NULL,
    -- Milliseconds since the liker's play of the video began, found at ingest (NULL: the
    -- like came outside any play stored by then). Last, as older stores add it.
    play_position_ms  BIGINT
);

-- The ids of the pseudonym keys this store was written with: opening it needs a key file
-- that holds every one of them.
CREATE TABLE IF NOT EXISTS store_keys (
    key_id      VARCHAR PRIMARY KEY,
    recorded_at TIMESTAMPTZ NOT NULL
);

-- For each like and comment, its actor's anonymous-space pseudonym, so the engaged
-- audience counts one person who liked and shared once. No event id, no actor id, the
-- time only to its 15 minutes (every time zone's offset is a multiple of 15 minutes, so
-- the creator-local day stays exact), and written in pseudonym order, not event order.
CREATE TABLE IF NOT EXISTS engagement_marks (
    creator_id VARCHAR NOT NULL,
    video_id   VARCHAR NOT NULL,
    ts         TIMESTAMPTZ NOT NULL,
    viewer_pid UBIGINT NOT NULL,
    key_id     VARCHAR NOT NULL,
    type       VARCHAR NOT NULL
);

-- Creators whose past rows ingest changed in place (a later analytics opt-out): the next
-- rollup refresh recomputes them whole.
CREATE TABLE IF NOT EXISTS changed_creators (
    creator_id VARCHAR NOT NULL,
    marked_at  TIMESTAMPTZ NOT NULL
);

-- Accounts whose privacy setting ingest stored since the last rollup refresh (new ones
-- included), with the setting now in force: the likers rule reads it over the liker
-- accounts at once, the refresh folds it in and empties it.
CREATE TABLE IF NOT EXISTS privacy_changes (
    account_id VARCHAR NOT NULL,
    is_private BOOLEAN NOT NULL
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
-- written at ingest (the only moment the viewer's id is known). `follower_pid` is the
-- follower's pseudonym as seen by `followed_id`, in a space of its own (never equal to a
-- viewer pseudonym). Plays of one batch are merged per 15 minutes (`ts`, the start of
-- the quarter hour) and written in grouping order, so a row does not point at one view.
CREATE TABLE IF NOT EXISTS follower_plays (
    followed_id  VARCHAR NOT NULL,
    video_id     VARCHAR NOT NULL,
    ts           TIMESTAMPTZ NOT NULL,
    follower_pid UBIGINT NOT NULL,
    key_id       VARCHAR NOT NULL,
    plays        BIGINT NOT NULL,
    watched_ms   BIGINT NOT NULL,
    opt_out      BOOLEAN NOT NULL
);

-- The (followed creator, quarter hour) keys `follower_plays` gained since the last rollup
-- refresh, which recomputes their days and empties it.
CREATE TABLE IF NOT EXISTS follower_plays_changed (
    followed_id VARCHAR NOT NULL,
    ts          TIMESTAMPTZ NOT NULL
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
