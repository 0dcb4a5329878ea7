//! OpenSLO v1 documents (`slo import FILE...`): any bytes as one file, which may hold several
//! documents, so the references between them (SLI, AlertPolicy) are resolved too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let files = vec![("slo.yaml".to_string(), data.to_vec())];
    let _ = obsctl::slo::openslo::import(&files);
});
