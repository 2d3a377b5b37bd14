//! The check index's table of names: open addressing over one array of
//! slots, each a hash tag and a node id. hashbrown's table, which this
//! replaces, offers no way to ask for a key's slot ahead of time; this one
//! lets the names thread prefetch the slots of the owners a few records
//! ahead, so that the cache misses of a table with a slot per name of the
//! zone overlap instead of each waiting its turn.

/// Node ids by the hash of their key. The keys live elsewhere (the
/// caller's `eq` compares them); a slot keeps the hash's high half as a tag
/// so that a probe compares a key only when the tags agree.
pub(crate) struct Slots {
    /// `tag << 32 | id`; [`Slots::EMPTY`] for an empty slot.
    slots: Vec<u64>,
    len: usize,
}

impl Slots {
    /// No id is `u32::MAX` (the index's NONE), so no slot in use is this.
    /// Not zero: a table of zeros comes from the allocator as pages not yet
    /// written, which the first lookups map read-only and the first stores
    /// then copy, each copy flushing the TLB of every core running the
    /// process (on this VM an interrupt to the reader's core each time,
    /// 18% of the names thread's time). Filled with this, every page is
    /// written once, when the table is made.
    const EMPTY: u64 = u64::MAX;

    /// Room for `n` names before the table grows.
    pub(crate) fn with_capacity(n: usize) -> Slots {
        Slots {
            slots: vec![Self::EMPTY; Self::room_for(n)],
            len: 0,
        }
    }

    /// Slots for `n` names at a load of at most three quarters: a probe
    /// seldom leaves its first cache line (eight slots), and a smaller
    /// table takes fewer of the TLB's entries (at a half, the 1M bench
    /// zone's table was 16 MB and the names thread was slower).
    fn room_for(n: usize) -> usize {
        (n.saturating_mul(4) / 3 + 1).next_power_of_two().max(16)
    }

    fn start(&self, h: u64) -> usize {
        h as usize & (self.slots.len() - 1)
    }

    /// Asks the CPU to bring the first slot of hash `h` into the cache
    /// (a hint: nothing waits for it).
    pub(crate) fn prefetch(&self, h: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            let p = self.slots[self.start(h)..].as_ptr();
            // SAFETY: a prefetch is only a hint to the cache; it reads
            // nothing into the program and cannot fault, and `p` points
            // into the slots anyway.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = h;
    }

    /// The id stored under hash `h` whose key `eq` accepts.
    pub(crate) fn find(&self, h: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let tag = h >> 32;
        let mask = self.slots.len() - 1;
        let mut at = self.start(h);
        loop {
            let s = self.slots[at];
            if s == Self::EMPTY {
                return None;
            }
            if s >> 32 == tag && eq(s as u32) {
                return Some(s as u32);
            }
            at = (at + 1) & mask;
        }
    }

    /// Stores `id` (not `u32::MAX`) under hash `h` (it must not be there
    /// already); growing the table first when it is three quarters full,
    /// with `hash_of` giving the hash of each id already stored.
    pub(crate) fn insert(&mut self, h: u64, id: u32, hash_of: impl Fn(u32) -> u64) {
        debug_assert_ne!(id, u32::MAX);
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            let room = Self::room_for(self.len + 1);
            let old = std::mem::replace(&mut self.slots, vec![Self::EMPTY; room]);
            for s in old.into_iter().filter(|&s| s != Self::EMPTY) {
                let id = s as u32;
                self.place(hash_of(id), id);
            }
        }
        self.place(h, id);
        self.len += 1;
    }

    fn place(&mut self, h: u64, id: u32) {
        let mask = self.slots.len() - 1;
        let mut at = self.start(h);
        while self.slots[at] != Self::EMPTY {
            at = (at + 1) & mask;
        }
        self.slots[at] = (h >> 32) << 32 | u64::from(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every id stored is found under its hash, none that was not is, and
    /// growing from a small table keeps them all, with hashes made to
    /// collide in their slots and in their tags.
    #[test]
    fn ids_are_found_under_their_hashes_through_growth() {
        // Hashes from a few slots and tags, so that probes run on and tags
        // repeat.
        let hash = |id: u32| u64::from(id % 7) << 32 | u64::from(id % 5);
        let mut t = Slots::with_capacity(1);
        for id in 0..200u32 {
            assert_eq!(t.find(hash(id), |x| x == id), None);
            t.insert(hash(id), id, hash);
            for old in 0..=id {
                assert_eq!(
                    t.find(hash(old), |x| x == old),
                    Some(old),
                    "{old} after {id}"
                );
            }
            t.prefetch(hash(id));
        }
        assert!(t.slots.len() * 3 >= 200 * 4);
        assert_eq!(t.find(hash(3), |x| x == 1000), None);
    }
}
