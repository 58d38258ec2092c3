//! Cases: intake, the regulation's workflow as a pure state machine, its clocks, queues and
//! search, with their database access and web/API adapters.
