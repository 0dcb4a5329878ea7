//! Runbooks: one per SLO, a section per alert tier, generated from the same model as the rules.
