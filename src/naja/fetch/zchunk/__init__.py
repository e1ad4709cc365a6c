"""zchunk (`.zck`) support: parse headers, and update an older local copy by fetching only the
chunks it lacks with multi-range requests."""
