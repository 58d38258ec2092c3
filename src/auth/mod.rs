//! Identity and access: accounts, password hashing, sessions, CSRF, lockout, the access
//! policy and the extractors (`CurrentUser`, role guards) that handlers use.
