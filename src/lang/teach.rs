//! Errors that teach: what Rhai reports when a function, a property or a variable is not
//! found, said in the script's terms, with the nearest name or the forms that exist (from
//! the reference, `docs.rs`). No Rust type path (`netscript::lang::Netns`,
//! `alloc::string::String`) reaches a message: `plain_types` rewrites them.

use super::docs::{self, Form};

/// The name in `names` nearest to `word` (a typo: one edit for short names, two for
/// longer ones), if there is one.
pub fn nearest<'a>(word: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    names
        .into_iter()
        .map(|n| (strsim::damerau_levenshtein(word, n), n))
        .filter(|&(d, n)| d > 0 && d < word.len() && d <= if n.len() <= 4 { 1 } else { 2 })
        .min_by_key(|&(d, _)| d)
        .map(|(_, n)| n)
}

/// The crates whose paths Rust's type names carry; `lab::p2p` (a script module) is not one.
const RUST_PATHS: &[&str] = &[
    "netscript",
    "crate",
    "alloc",
    "core",
    "std",
    "rhai",
    "smartstring",
    "types",
];

/// A Rust type's name as a script sees it.
pub(crate) fn script_type(last: &str) -> &str {
    match last {
        "String" | "ImmutableString" | "str" | "SmartString" => "string",
        "i64" | "INT" => "int",
        "f64" | "FLOAT" => "float",
        "BTreeMap" | "Map" => "map",
        "Vec" | "Array" => "array",
        "Dynamic" => "value",
        other => other,
    }
}

/// `msg` with every Rust type path (`netscript::lang::Netns`) replaced by the type's
/// script name (`Netns`), and Rhai's `&str | ImmutableString | String` by `string`.
pub fn plain_types(msg: &str) -> String {
    let msg = msg.replace("&str | ImmutableString | String", "string");
    let mut out = String::with_capacity(msg.len());
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        let first = token.split("::").next().unwrap_or("");
        if token.contains("::") && RUST_PATHS.contains(&first) {
            let last = token.rsplit("::").next().unwrap_or("");
            out.push_str(script_type(last));
        } else {
            out.push_str(token);
        }
        token.clear();
    };
    for ch in msg.chars() {
        if ch.is_alphanumeric() || ch == '_' || ch == ':' {
            token.push(ch);
        } else {
            flush(&mut token, &mut out);
            out.push(ch);
        }
    }
    flush(&mut token, &mut out);
    out
}

/// A form as an error shows it: the parameters' names, option maps with their keys
/// (`ns.addr(link, cidr, #{ nodad })`).
fn short(f: &Form) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|(name, alts)| match alts.as_slice() {
            [one] if one.starts_with("#{") => one.clone(),
            _ => name.clone(),
        })
        .collect();
    let recv = f.recv.as_ref().map(|r| format!("{r}.")).unwrap_or_default();
    match f.property {
        true => format!("{recv}{}", f.name),
        false => format!("{recv}{}({})", f.name, params.join(", ")),
    }
}

/// A typed form of the reference (`ns.addr(link: Link | String, cidr: String)`) in short
/// (`ns.addr(link, cidr)`), as `help()` lists it.
pub fn short_form(form: &str) -> String {
    match form.contains("::") {
        true => form.to_string(),
        false => short(&docs::parse_form(form)),
    }
}

/// "X or Y or Z": how `name` is called, in short forms.
fn called_as(name: &str) -> Option<String> {
    let forms: Vec<String> = docs::forms()
        .iter()
        .filter(|(d, _)| d.name == name)
        .map(|(_, f)| short(f))
        .collect();
    if !forms.is_empty() {
        return Some(forms.join(" or "));
    }
    docs::module_entries()
        .into_iter()
        .find(|e| e.name == name)
        .map(|e| e.forms.join(" or "))
}

/// The parameters a call of `name` leaves out, given `given` arguments after the receiver
/// (`on`: its type, `None` for a plain function), of the types `types` if known: the
/// fewest of any form whose first parameters take what was given.
fn missing(
    name: &str,
    on: Option<&str>,
    given: usize,
    types: Option<&[String]>,
) -> Option<Vec<String>> {
    docs::forms()
        .into_iter()
        .filter(|(d, f)| d.name == name && !f.property)
        .filter(|(_, f)| match (on, f.recv.as_deref()) {
            (Some(t), Some(r)) => docs::recv_type(r) == t,
            (None, None) | (None, Some("ns")) => true,
            _ => false,
        })
        .filter(|(_, f)| f.params.len() > given)
        .filter(|(_, f)| {
            types.is_none_or(|ts| {
                ts.iter().zip(&f.params).all(|(t, (_, alts))| {
                    t == "value"
                        || alts
                            .iter()
                            .any(|a| docs::rhai_type(a).eq_ignore_ascii_case(t))
                })
            })
        })
        .map(|(_, f)| f.params[given..].iter().map(|(n, _)| n.clone()).collect())
        .min_by_key(|m: &Vec<String>| m.len())
}

fn and_list(names: &[String]) -> String {
    match names {
        [one] => format!("the {one} is missing"),
        _ => format!("{} are missing", names.join(" and ")),
    }
}

/// The message for a call no function matches (Rhai's `ErrorFunctionNotFound`), as
/// `name (T1, T2)`: a typo gets the nearest name, a known name the forms that exist.
pub fn function_not_found(sig: &str) -> String {
    let (name, args) = match sig.split_once('(') {
        Some((n, a)) => (n.trim(), a.trim_end().trim_end_matches(')')),
        None => (sig.trim(), ""),
    };
    let types: Vec<String> = match args.trim().is_empty() {
        true => vec![],
        false => args
            .split(", ")
            .map(|t| script_type(plain_types(t).trim()).to_string())
            .collect(),
    };
    let shown = format!("{name}({})", types.join(", "));
    let handles = ["Netns", "Link", "Proc", "Veth"];
    let on = types
        .first()
        .filter(|t| handles.contains(&t.as_str()))
        .cloned();
    if let Some(forms) = called_as(name) {
        let args = &types[on.is_some() as usize..];
        let what = match missing(name, on.as_deref(), args.len(), Some(args)) {
            Some(m) => and_list(&m),
            None => "wrong number or types of arguments".into(),
        };
        return format!("{shown}: {what}; {name} is called as {forms}");
    }
    // A typo: the nearest name among the methods of that handle, else among all names.
    let entries = docs::entries();
    let methods: Vec<&str> = docs::DOCS
        .iter()
        .filter(|d| {
            d.forms.iter().any(|f| {
                let f = docs::parse_form(f);
                match &on {
                    Some(t) => f.recv.as_deref().map(docs::recv_type) == Some(t.as_str()),
                    None => f.recv.is_none() || f.recv.as_deref() == Some("ns"),
                }
            })
        })
        .map(|d| d.name)
        .collect();
    let guess = nearest(name, methods.iter().copied())
        .map(str::to_string)
        .or_else(|| nearest(name, entries.iter().map(|e| e.name.as_str())).map(str::to_string));
    match guess {
        Some(g) => format!("{shown}: no such function; did you mean {g}?"),
        None => format!(
            "{shown}: no such function, or not with these arguments; netscript doc lists them all"
        ),
    }
}

/// A call whose first argument, `Netns("red")`, sits where another value belongs: the
/// method form with its receiver as first argument and an argument missing
/// (`red.addr("veth-red")` reached `addr(link, cidr)` on the host). The message says
/// which, with the call written as the script wrote it; `None` if that is not it.
pub fn receiver_in_arguments(call: &str) -> Option<String> {
    let (name, rest) = call.split_once('(')?;
    let rest = rest.strip_suffix(')')?;
    let rest = rest.strip_prefix("Netns(")?;
    let (ns, args) = rest.split_once(')')?;
    let ns = ns.trim_matches('"');
    let args = args.trim_start_matches(',').trim();
    let given = match args.is_empty() {
        true => 0,
        false => args.split(", ").count(),
    };
    let m = missing(name, Some("Netns"), given, None)?;
    Some(format!(
        "{ns}.{name}({args}): {}; {name} is called as {}",
        and_list(&m),
        called_as(name)?
    ))
}

/// Rhai's `ErrorDotExpr` text: a property that is a method says so, an unknown property
/// gets the nearest one.
pub fn dot_expr(msg: &str) -> Option<String> {
    let quoted: Vec<&str> = msg.split('\'').skip(1).step_by(2).collect();
    let (prop, ty) = (*quoted.first()?, *quoted.get(1)?);
    let forms = docs::forms();
    let of_type = |property: bool| -> Vec<(&'static docs::Doc, Form)> {
        forms
            .iter()
            .filter(|(_, f)| {
                f.property == property && f.recv.as_deref().map(docs::recv_type) == Some(ty)
            })
            .cloned()
            .collect()
    };
    if msg.starts_with("No writable property") {
        return Some(format!("{prop} of a {ty} is read-only"));
    }
    if let Some((_, f)) = of_type(false).into_iter().find(|(_, f)| f.name == prop) {
        let args = match f.params.is_empty() {
            true => "",
            false => "..",
        };
        return Some(format!(
            "{prop} is a method: {}.{prop}({args})",
            f.recv.unwrap_or_default()
        ));
    }
    let props = of_type(true);
    let names: Vec<&str> = props.iter().map(|(_, f)| f.name.as_str()).collect();
    let mut list = names.clone();
    list.dedup();
    Some(match nearest(prop, names.iter().copied()) {
        Some(g) => format!("a {ty} has no property {prop}; did you mean {g}?"),
        None if list.is_empty() => format!("a {ty} has no properties"),
        None => format!(
            "a {ty} has no property {prop}; its properties: {}",
            list.join(", ")
        ),
    })
}

/// Rhai's "Variable not found": a function's name written bare, or a variable of the
/// script used inside a function (`in_fn`), which Rhai functions do not see.
pub fn variable_not_found(var: &str, in_fn: Option<&str>) -> String {
    if docs::find(var).is_some_and(|e| e.name == var) {
        return format!(
            "Variable not found: {var}; {var} is a function, not a variable: to ask about it, quote its name: help(\"{var}\")"
        );
    }
    match in_fn {
        Some(f) => format!(
            "Variable not found: {var}; a Rhai function does not see the variables outside it: pass {var} in as a parameter (fn {f}({var}, ..) and {f}({var}, ..)), or use a closure (let {f} = |..| .. {var} ..;)"
        ),
        None => format!("Variable not found: {var}"),
    }
}

/// A message with what only the source line shows: `ns.links()` in a hint becomes
/// `red.links()` when `red.links` is what was written at `col` (1-based, at the property).
pub fn refine(message: &str, line: &str, col: usize) -> String {
    let Some((before, after)) = message.split_once(" is a method: ") else {
        return message.to_string();
    };
    let Some((_, call)) = after.split_once('.') else {
        return message.to_string();
    };
    let head: Vec<char> = line.chars().take(col.saturating_sub(1)).collect();
    let Some(('.', head)) = head.split_last() else {
        return message.to_string();
    };
    let recv: String = head
        .iter()
        .rev()
        .take_while(|c| c.is_alphanumeric() || **c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    match recv.is_empty() {
        true => message.to_string(),
        false => format!("{before} is a method: {recv}.{call}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_type_paths_become_script_type_names() {
        assert_eq!(
            plain_types("not netscript::lang::Netns nor alloc::string::String"),
            "not Netns nor string"
        );
        assert_eq!(plain_types("lab::p2p (i64)"), "lab::p2p (i64)");
        assert_eq!(
            plain_types("f (&str | ImmutableString | String)"),
            "f (string)"
        );
    }

    #[test]
    fn a_form_is_parsed_with_its_receiver_types_and_options() {
        let f = docs::parse_form("ns.addr(link: Link | String, cidr: String, opts: #{ nodad })");
        assert_eq!(f.recv.as_deref(), Some("ns"));
        assert_eq!(f.name, "addr");
        assert_eq!(
            f.params[0],
            ("link".into(), vec!["Link".into(), "String".into()])
        );
        assert_eq!(f.params[2].1, vec!["#{ nodad }".to_string()]);
        assert_eq!(short(&f), "ns.addr(link, cidr, #{ nodad })");
        let p = docs::parse_form("link.peer -> String | ()");
        assert!(p.property);
        assert_eq!(p.ret, vec!["String".to_string()]);
    }

    #[test]
    fn the_receiver_of_a_method_hint_is_the_one_written() {
        let m = "links is a method: ns.links()";
        assert_eq!(
            refine(m, "let x = red.links;", 13),
            "links is a method: red.links()"
        );
        assert_eq!(refine(m, "links", 1), m);
    }
}
