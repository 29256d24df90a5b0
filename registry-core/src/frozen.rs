//! The frozen table: built once from the link-time entries, then only read.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use crate::error::{validate_name, Clash, Error, Location};

/// One declaration, with its handler already downcast to the registry's type.
pub(crate) struct Meta<F> {
    pub(crate) name: &'static str,
    pub(crate) aliases: &'static [&'static str],
    pub(crate) doc: &'static str,
    pub(crate) location: Location,
    pub(crate) dynamic: bool,
    pub(crate) handler: F,
}

/// What a lookup reads: everything needed to answer a static hit sits in this one slot.
pub(crate) struct Slot<F> {
    pub(crate) name: &'static str,
    pub(crate) handler: F,
    pub(crate) entry: u32,
    pub(crate) dynamic: bool,
}

/// Names and aliases of every declaration, in a hash table that is never written after
/// `build`. Keys come from the program itself, never from untrusted input, so a fixed-seed
/// fast hash is safe here: nobody can flood the table with colliding names.
pub(crate) struct Frozen<F> {
    table: HashTable<Slot<F>>,
    pub(crate) entries: Vec<Meta<F>>,
}

const HASHER: FixedState = FixedState::with_seed(0x5bd1_e995_9e37_79b9);

impl<F: Copy> Frozen<F> {
    pub(crate) fn empty() -> Self {
        Frozen {
            table: HashTable::new(),
            entries: Vec::new(),
        }
    }

    /// Builds the table, reporting every duplicate name (with both locations) at once.
    pub(crate) fn build(mut entries: Vec<Meta<F>>) -> Result<Self, Error> {
        entries.sort_by(|a, b| {
            (a.name, a.location.file, a.location.line).cmp(&(
                b.name,
                b.location.file,
                b.location.line,
            ))
        });
        let mut names: Vec<(&'static str, u32)> = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let index = u32::try_from(index).expect("more than u32::MAX handlers");
            for name in std::iter::once(entry.name).chain(entry.aliases.iter().copied()) {
                validate_name(name).map_err(|reason| Error::invalid_name(name, reason))?;
                names.push((name, index));
            }
        }
        names.sort_by(|a, b| {
            let (ea, eb) = (&entries[a.1 as usize], &entries[b.1 as usize]);
            (a.0, ea.location.file, ea.location.line).cmp(&(
                b.0,
                eb.location.file,
                eb.location.line,
            ))
        });
        let clashes: Vec<Clash> = names
            .windows(2)
            .filter(|pair| pair[0].0 == pair[1].0)
            .map(|pair| Clash {
                name: pair[0].0,
                first: entries[pair[0].1 as usize].location,
                second: entries[pair[1].1 as usize].location,
            })
            .collect();
        if !clashes.is_empty() {
            return Err(Error::Duplicate { clashes });
        }

        let mut table = HashTable::with_capacity(names.len());
        for (name, index) in names {
            let entry = &entries[index as usize];
            let slot = Slot {
                name,
                handler: entry.handler,
                entry: index,
                dynamic: entry.dynamic,
            };
            table.insert_unique(HASHER.hash_one(name), slot, |s| HASHER.hash_one(s.name));
        }
        Ok(Frozen { table, entries })
    }

    /// The hot path: one hash, one probe sequence, one string comparison on a hit.
    #[inline]
    pub(crate) fn find(&self, name: &str) -> Option<&Slot<F>> {
        self.table
            .find(HASHER.hash_one(name), |slot| slot.name == name)
    }

    /// Every name the table answers to (primary names and aliases).
    pub(crate) fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.table.iter().map(|slot| slot.name)
    }
}
