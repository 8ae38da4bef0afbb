//! Values made once per process and kept, for what is costly to make and keyed by input
//! (scenario patterns, upload archives). Past its bound the store starts afresh, so a
//! long-lived program cannot grow it without limit.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

pub(crate) struct Kept<K, V> {
    bound: usize,
    values: Mutex<HashMap<K, V>>,
}

impl<K: Hash + Eq, V: Clone> Kept<K, V> {
    pub(crate) fn new(bound: usize) -> Self {
        Kept {
            bound,
            values: Mutex::default(),
        }
    }

    /// The value kept for `key`, else `make`'s, kept if it succeeds. `make` runs without
    /// the lock held, so two threads may both make a value the first time.
    pub(crate) fn get_or_make<Q, E>(
        &self,
        key: &Q,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(value) = self.lock().get(key) {
            return Ok(value.clone());
        }
        let value = make()?;
        let mut values = self.lock();
        if values.len() >= self.bound {
            values.clear();
        }
        values.insert(key.to_owned(), value.clone());
        Ok(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
        self.values.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_made_once_and_the_store_starts_afresh_past_its_bound() {
        let kept: Kept<String, usize> = Kept::new(2);
        let made = std::cell::Cell::new(0);
        let get = |key: &str| {
            kept.get_or_make(key, || {
                made.set(made.get() + 1);
                Ok::<_, ()>(key.len())
            })
        };
        assert_eq!(get("a"), Ok(1));
        assert_eq!(get("a"), Ok(1));
        assert_eq!(made.get(), 1, "made once");
        assert_eq!(get("bb"), Ok(2));
        assert_eq!(get("ccc"), Ok(3), "the third value clears the two kept");
        assert_eq!(get("a"), Ok(1));
        assert_eq!(
            made.get(),
            4,
            "`a` was made again after the store started afresh"
        );
        let failed: Result<usize, &str> = kept.get_or_make("x", || Err("no"));
        assert_eq!(failed, Err("no"));
        assert_eq!(
            kept.get_or_make("x", || Ok::<_, ()>(9)),
            Ok(9),
            "a failure is not kept"
        );
    }
}
