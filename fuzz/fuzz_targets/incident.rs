//! Incident files (`postmortem --incident FILE`): any bytes through the positioned loader and the
//! blameless-language check.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = obsctl::incident::postmortem::incident::parse("incident.yaml", data);
});
