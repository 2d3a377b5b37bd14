//! What the engine's tests share: holding the served path (answers reused
//! from their encoding) to the general path's bytes.

use mailzone_engine::{Catalog, ClientCtx, answer, answer_general};

/// Asks `q` over UDP and over TCP: once by the general path, then twice as
/// served (the first may encode the answer, the second reuses it), and
/// requires the same bytes each time (`what` names the case on failure).
/// Returns the general path's answers, UDP first.
pub fn served_equals_general(cat: &Catalog, q: &[u8], what: &str) -> [Vec<u8>; 2] {
    [false, true].map(|tcp| {
        let ctx = ClientCtx {
            tcp,
            ..ClientCtx::default()
        };
        let mut general = Vec::new();
        let g = answer_general(cat, q, &ctx, &mut general);
        for _ in 0..2 {
            let mut served = Vec::new();
            let f = answer(cat, q, &ctx, &mut served);
            assert_eq!((f, &served), (g, &general), "{what} tcp {tcp}");
        }
        general
    })
}
