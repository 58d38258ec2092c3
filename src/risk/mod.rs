//! Risk: the versioned rubric of the rule's criteria, pure scoring, assessments and
//! supervisor-approved overrides.
