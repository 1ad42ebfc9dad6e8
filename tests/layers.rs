//! The house's layering: no module imports one that, by any path, imports
//! it back. A module may use its ancestors' items and its descendants
//! (a room's `mod.rs` and its files); between any others the imports go
//! one way. Read from the source: `crate::`, `super::` and `self::` paths,
//! groups included, outside comments and test modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// Every module of the library by path (`engine::apply`), with its source.
fn modules(dir: &Path, at: &[String], out: &mut BTreeMap<Module, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            let mut inner = at.to_vec();
            inner.push(name);
            modules(&path, &inner, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            if at.is_empty() && (name == "lib" || name == "main") {
                continue;
            }
            let mut m = at.to_vec();
            if name != "mod" {
                m.push(name);
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Tests may reach anywhere.
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            let code: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
            out.insert(m, code.join("\n"));
        }
    }
}

fn ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths a path expression names after its first segment, `s`
/// starting at the `::` after it (a group gives several).
fn paths(s: &[char]) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new()];
    let mut i = 0;
    loop {
        if s.get(i..i + 2) != Some(&[':', ':']) {
            return out;
        }
        i += 2;
        if s.get(i) == Some(&'{') {
            // A group: each member is a path of its own (nested groups too).
            let mut depth = 0;
            let mut start = i + 1;
            let mut members = Vec::new();
            while i < s.len() {
                match s[i] {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            members.push(&s[start..i]);
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        members.push(&s[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
                i += 1;
            }
            let mut grouped = Vec::new();
            for member in members {
                let member: Vec<char> = member.iter().copied().skip_while(|c| c.is_whitespace()).collect();
                let first: String = member.iter().take_while(|c| ident(**c)).collect();
                if first.is_empty() {
                    continue;
                }
                let with = ["::".chars().collect::<Vec<_>>(), member].concat();
                for tail in paths(&with) {
                    for head in &out {
                        grouped.push([head.clone(), tail.clone()].concat());
                    }
                }
            }
            return grouped;
        }
        let seg: String = s[i..].iter().take_while(|c| ident(**c)).collect();
        if seg.is_empty() {
            return out;
        }
        i += seg.chars().count();
        for p in &mut out {
            p.push(seg.clone());
        }
    }
}

/// Modules `m` imports (not its ancestors or descendants).
fn imports(m: &Module, code: &str, all: &BTreeMap<Module, String>) -> BTreeSet<Module> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = BTreeSet::new();
    for i in 0..chars.len() {
        if i > 0 && ident(chars[i - 1]) {
            continue;
        }
        let (root, len) = ["crate", "super", "self"]
            .iter()
            .find_map(|r| {
                let w: Vec<char> = r.chars().collect();
                (chars.get(i..i + w.len()) == Some(&w[..])).then_some((*r, w.len()))
            })
            .unwrap_or(("", 0));
        if len == 0 {
            continue;
        }
        for p in paths(&chars[i + len..]) {
            // A room's mod.rs is the room: `super` is its parent there too.
            let mut base: Module = match root {
                "crate" => Vec::new(),
                "self" => m.clone(),
                _ => m[..m.len().saturating_sub(1)].to_vec(),
            };
            let mut rest = p.as_slice();
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            // The longest prefix that is a module.
            let target = (1..=base.len()).rev().map(|n| base[..n].to_vec()).find(|k| all.contains_key(k));
            if let Some(t) = target {
                let related = t.starts_with(m) || m.starts_with(&t);
                if !related {
                    out.insert(t);
                }
            }
        }
    }
    out
}

/// Each module that reaches itself again through imports, with the way.
fn cycles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<(Module, Vec<Module>)> {
    let mut found = Vec::new();
    for start in edges.keys() {
        // Depth-first from each import of `start`, keeping the way back.
        let mut stack: Vec<(Module, Vec<Module>)> =
            edges[start].iter().map(|n| (n.clone(), vec![start.clone(), n.clone()])).collect();
        let mut seen = BTreeSet::new();
        while let Some((at, way)) = stack.pop() {
            if &at == start {
                found.push((start.clone(), way));
                break;
            }
            if !seen.insert(at.clone()) {
                continue;
            }
            for next in edges.get(&at).into_iter().flatten() {
                let mut w = way.clone();
                w.push(next.clone());
                stack.push((next.clone(), w));
            }
        }
    }
    found
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let mut all = BTreeMap::new();
    modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &[], &mut all);
    assert!(all.len() > 100, "the modules were not found: {}", all.len());
    let edges: BTreeMap<Module, BTreeSet<Module>> =
        all.iter().map(|(m, code)| (m.clone(), imports(m, code, &all))).collect();
    // The reader sees what the house is made of: these imports exist.
    let has = |a: &str, b: &str| {
        let (a, b): (Module, Module) =
            (a.split("::").map(String::from).collect(), b.split("::").map(String::from).collect());
        edges[&a].contains(&b)
    };
    assert!(has("engine::incoming", "engine::apply"), "group imports are read");
    assert!(has("engine::apply", "engine::transfers::inbound"), "paths from the crate root are read");
    assert!(has("engine::transfers::inbound", "store::transfers"), "nested rooms are read");
    let found = cycles(&edges);
    let shown: Vec<String> = found
        .iter()
        .map(|(m, way)| {
            format!("{}: {}", m.join("::"), way.iter().map(|w| w.join("::")).collect::<Vec<_>>().join(" → "))
        })
        .collect();
    assert!(shown.is_empty(), "modules that import themselves back:\n{}", shown.join("\n"));
}

#[test]
fn a_cycle_is_found() {
    let m = |s: &str| -> Module { s.split("::").map(String::from).collect() };
    let mut edges = BTreeMap::new();
    edges.insert(m("a::x"), BTreeSet::from([m("b")]));
    edges.insert(m("b"), BTreeSet::from([m("c")]));
    edges.insert(m("c"), BTreeSet::from([m("a::x")]));
    edges.insert(m("d"), BTreeSet::from([m("a::x")]));
    let found = cycles(&edges);
    let starts: Vec<String> = found.iter().map(|(s, _)| s.join("::")).collect();
    assert_eq!(starts, ["a::x", "b", "c"], "d only reaches the cycle");
    let chars: Vec<char> = "::{apply, handshake::{x, Y}, Peer}".chars().collect();
    let p: Vec<String> = paths(&chars).iter().map(|p| p.join("::")).collect();
    assert_eq!(p, ["apply", "handshake::x", "handshake::Y", "Peer"]);
}
