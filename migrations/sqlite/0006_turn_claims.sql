-- Who is answering a conversation right now. A process claims the conversation before a
-- turn makes any change to the agenda and lets go after the turn's transaction, so one
-- message is one turn whatever the number of processes; a claim left by a process that
-- died lapses at `turn_until` (Unix seconds) and another process answers.
ALTER TABLE conversations ADD COLUMN turn_owner TEXT;
ALTER TABLE conversations ADD COLUMN turn_until BIGINT;
