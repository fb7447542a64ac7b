//! CPU sets: parsing and printing Linux CPU lists ("0-3,6"), reading and
//! setting affinity (sched_setaffinity), and the default placement that
//! keeps the load generator off the servers' CPUs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A set of CPU ids, sorted and without duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct CpuSet(Vec<usize>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpuSetError {
    #[error("'{0}' is not a CPU list (expected e.g. 0-3,6)")]
    Syntax(String),
    #[error("CPU list is empty")]
    Empty,
    #[error("CPU {cpu} is not available to this process (available: {available})")]
    Unavailable { cpu: usize, available: CpuSet },
    #[error("cannot set CPU affinity: {0}")]
    Affinity(String),
}

impl CpuSet {
    pub fn new(mut cpus: Vec<usize>) -> Result<CpuSet, CpuSetError> {
        cpus.sort_unstable();
        cpus.dedup();
        if cpus.is_empty() {
            return Err(CpuSetError::Empty);
        }
        Ok(CpuSet(cpus))
    }

    pub fn cpus(&self) -> &[usize] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, cpu: usize) -> bool {
        self.0.binary_search(&cpu).is_ok()
    }

    pub fn overlaps(&self, other: &CpuSet) -> bool {
        self.0.iter().any(|cpu| other.contains(*cpu))
    }

    pub fn union(&self, other: &CpuSet) -> CpuSet {
        let mut all = self.0.clone();
        all.extend(&other.0);
        all.sort_unstable();
        all.dedup();
        CpuSet(all)
    }

    /// Errs unless every CPU of `self` is in `available`.
    pub fn within(self, available: &CpuSet) -> Result<CpuSet, CpuSetError> {
        match self.0.iter().find(|cpu| !available.contains(**cpu)) {
            Some(&cpu) => Err(CpuSetError::Unavailable {
                cpu,
                available: available.clone(),
            }),
            None => Ok(self),
        }
    }

    /// The CPUs the calling thread may run on.
    pub fn current() -> Result<CpuSet, CpuSetError> {
        // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                return Err(CpuSetError::Affinity(
                    std::io::Error::last_os_error().to_string(),
                ));
            }
            let cpus = (0..libc::CPU_SETSIZE as usize)
                .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
                .collect();
            CpuSet::new(cpus)
        }
    }

    /// Pins the calling thread (and every thread or process it creates
    /// afterwards) to this set. Async-signal-safe: usable between fork and
    /// exec.
    pub fn pin_current_thread(&self) -> std::io::Result<()> {
        // SAFETY: cpu_set_t is plain data; CPU_SET stays in bounds because
        // ids above CPU_SETSIZE are skipped.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            for &cpu in &self.0 {
                if cpu < libc::CPU_SETSIZE as usize {
                    libc::CPU_SET(cpu, &mut set);
                }
            }
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// The default placement on `available`: the load generator on the
    /// lower half, the servers on the upper half (on 2 CPUs: client on 0,
    /// server on 1). None when there is only one CPU to share.
    pub fn default_split(available: &CpuSet) -> Option<(CpuSet, CpuSet)> {
        if available.len() < 2 {
            return None;
        }
        let (client, server) = available.0.split_at(available.len() / 2);
        Some((CpuSet(client.to_vec()), CpuSet(server.to_vec())))
    }
}

impl FromStr for CpuSet {
    type Err = CpuSetError;

    fn from_str(text: &str) -> Result<CpuSet, CpuSetError> {
        let bad = || CpuSetError::Syntax(text.to_owned());
        let mut cpus = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('-') {
                Some((lo, hi)) => {
                    let lo: usize = lo.trim().parse().map_err(|_| bad())?;
                    let hi: usize = hi.trim().parse().map_err(|_| bad())?;
                    if lo > hi || hi - lo > 4096 {
                        return Err(bad());
                    }
                    cpus.extend(lo..=hi);
                }
                None => cpus.push(part.parse().map_err(|_| bad())?),
            }
        }
        CpuSet::new(cpus)
    }
}

impl fmt::Display for CpuSet {
    /// The kernel's list form: "0-3,6".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut i = 0;
        while i < self.0.len() {
            let start = self.0[i];
            let mut end = start;
            while i + 1 < self.0.len() && self.0[i + 1] == end + 1 {
                i += 1;
                end += 1;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if start == end {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
            i += 1;
        }
        Ok(())
    }
}

impl Serialize for CpuSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CpuSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CpuSet, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip() {
        for text in ["0", "0-3", "0-3,6", "1,3,5-7"] {
            assert_eq!(text.parse::<CpuSet>().unwrap().to_string(), text);
        }
        assert_eq!("3,1,2,2".parse::<CpuSet>().unwrap().to_string(), "1-3");
        for bad in ["", "a", "3-1", "1-", "-"] {
            assert!(bad.parse::<CpuSet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn default_split_is_disjoint() {
        let two: CpuSet = "0-1".parse().unwrap();
        let (client, server) = CpuSet::default_split(&two).unwrap();
        assert_eq!(
            (client.to_string(), server.to_string()),
            ("0".into(), "1".into())
        );
        let four: CpuSet = "0-3".parse().unwrap();
        let (client, server) = CpuSet::default_split(&four).unwrap();
        assert!(!client.overlaps(&server));
        assert_eq!(client.union(&server), four);
        assert!(CpuSet::default_split(&"5".parse().unwrap()).is_none());
    }

    #[test]
    fn within_checks_availability() {
        let available: CpuSet = "0-1".parse().unwrap();
        assert!("1".parse::<CpuSet>().unwrap().within(&available).is_ok());
        assert!(matches!(
            "2".parse::<CpuSet>().unwrap().within(&available),
            Err(CpuSetError::Unavailable { cpu: 2, .. })
        ));
    }

    #[test]
    fn current_affinity_is_readable() {
        let current = CpuSet::current().unwrap();
        assert!(!current.is_empty());
    }
}
