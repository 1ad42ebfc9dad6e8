//! Whether a folder lives on a network file system, where another host's
//! writes raise no inotify event: only such folders need polling. Read
//! from `/proc/self/mountinfo` (the mount holding the folder and its type).

use std::path::{Path, PathBuf};

/// File-system types whose files other hosts write without inotify
/// seeing it (FUSE ones, such as sshfs, included).
const NETWORK: &[&str] = &[
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "ncpfs",
    "9p",
    "afs",
    "ceph",
    "glusterfs",
    "lustre",
    "gpfs",
    "davfs",
    "ocfs2",
    "gfs2",
    "beegfs",
    "virtiofs",
    "vboxsf",
    "vmhgfs",
];

/// The mount table as read once.
pub struct Mounts(Option<String>);

impl Mounts {
    pub fn read() -> Self {
        Mounts(std::fs::read_to_string("/proc/self/mountinfo").ok())
    }

    /// Whether `dir` must be polled: on a network (or FUSE) file system,
    /// or not resolvable now (an unmounted share: its cycle reports the
    /// error), or the mount table is unknown.
    pub fn needs_polling(&self, dir: &Path) -> bool {
        let (Ok(real), Some(info)) = (std::fs::canonicalize(dir), &self.0) else {
            return true;
        };
        fs_type(info, &real).is_none_or(is_network)
    }
}

fn is_network(fs: &str) -> bool {
    fs.starts_with("fuse") || NETWORK.contains(&fs)
}

/// The type of the file system mounted deepest above `path`.
fn fs_type<'a>(mountinfo: &'a str, path: &Path) -> Option<&'a str> {
    mountinfo
        .lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let mount = PathBuf::from(unescape(left.split(' ').nth(4)?));
            let fs = right.split(' ').next()?;
            path.starts_with(&mount).then_some((mount.components().count(), fs))
        })
        .max_by_key(|(depth, _)| *depth)
        .map(|(_, fs)| fs)
}

/// Mount points escape space, tab, newline and backslash as octal.
fn unescape(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
40 27 0:50 / /mnt/share rw,relatime - nfs4 server:/export rw
41 40 0:51 / /mnt/share/local\\040disk rw - xfs /dev/sdb1 rw
42 27 0:52 / /home/u/remote rw - fuse.sshfs u@host: rw
43 27 0:53 / /srv/smb rw - cifs //host/share rw";

    #[test]
    fn the_deepest_mount_decides() {
        let t = |p: &str| fs_type(INFO, Path::new(p));
        assert_eq!(t("/var/lib/postern/exchange/RECEIVE"), Some("ext4"));
        assert_eq!(t("/mnt/share/acme/RECEIVE"), Some("nfs4"));
        assert_eq!(t("/mnt/share/local disk/RECEIVE"), Some("xfs"), "escaped spaces");
        assert_eq!(t("/mnt/shared"), Some("ext4"), "a prefix of the name is not a parent folder");
        assert!(is_network(t("/home/u/remote/x").unwrap()));
        assert!(is_network(t("/srv/smb/RECEIVE").unwrap()));
        assert!(!is_network(t("/proc/1").unwrap()));
    }

    #[test]
    fn a_folder_that_cannot_be_resolved_is_polled() {
        let mounts = Mounts::read();
        assert!(mounts.needs_polling(Path::new("/no/such/share/RECEIVE")));
        let dir = tempfile::tempdir().unwrap();
        // A local temporary folder on this machine: whatever its type, the
        // answer follows the mount table.
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(mounts.needs_polling(dir.path()), fs_type(&info, &real).is_none_or(is_network));
    }
}
