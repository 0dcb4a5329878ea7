//! Pricing catalogs (`cost --pricing FILE`): any bytes through the positioned loader.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = obsctl::cost::catalog::Catalog::parse("pricing.yaml", data);
});
