//! Table-driven tests of the renderer: Ansible's filters, tests, native types and undefined errors.

use serde_json::{json, Value as Json};

use super::convert::to_jinja;
use super::Renderer;

fn vars() -> minijinja::Value {
    to_jinja(&json!({
        "pod_cidr": "10.244.0.0/16",
        "nodes": ["cp1", "w1", "w2"],
        "ports": [6443, 10250],
        "yes_str": "yes",
        "off_str": "Off",
        "empty": "",
        "nothing": null,
        "num_str": "42",
        "ver": "1.28.3",
        "os": {"name": "Debian", "version": "12"},
        "path": "/etc/kubernetes/admin.conf",
        "res": {"changed": true, "failed": false, "rc": 0, "stdout": "ok"},
        "skipres": {"skipped": true, "changed": false},
        "d1": {"a": 1, "b": {"x": 1}},
        "d2": {"b": {"y": 2}, "c": 3},
        "nested": [[1, 2], [3, [4]]],
        "kv": [{"key": "a", "value": 1}],
        "text": "line one\nline two",
    }))
}

/// Expression (rendered as `{{ expr }}`) → the native value it gives.
#[test]
fn expressions_give_native_values() {
    let r = Renderer::new();
    let cases: &[(&str, Json)] = &[
        ("nodes", json!(["cp1", "w1", "w2"])),
        ("ports[0] + 1", json!(6444)),
        ("os", json!({"name": "Debian", "version": "12"})),
        ("nothing", json!(null)),
        ("missing | default('x')", json!("x")),
        ("missing | d('x')", json!("x")),
        ("empty | default('x')", json!("")),
        ("empty | default('x', true)", json!("x")),
        ("missing | default(false) | bool", json!(false)),
        ("yes_str | bool", json!(true)),
        ("off_str | bool", json!(false)),
        ("'1' | bool", json!(true)),
        ("1 | bool", json!(true)),
        ("'maybe' | bool", json!(false)),
        ("num_str | int + 1", json!(43)),
        ("'3.7' | int", json!(3)),
        ("'abc' | int", json!(0)),
        ("'abc' | int(7)", json!(7)),
        ("'ff' | int(base=16)", json!(255)),
        ("'2.5' | float", json!(2.5)),
        ("5 | string", json!("5")),
        ("'AbC' | lower", json!("abc")),
        ("'AbC' | upper", json!("ABC")),
        ("'  a ' | trim", json!("a")),
        ("nodes | length", json!(3)),
        ("nodes | count", json!(3)),
        ("nodes | join(',')", json!("cp1,w1,w2")),
        ("nodes | first", json!("cp1")),
        ("nodes | last", json!("w2")),
        ("[3, 1, 3] | unique | list", json!([3, 1])),
        ("[3, 1, 2] | sort", json!([1, 2, 3])),
        ("'ab' | list", json!(["a", "b"])),
        ("{'a': 1} | dict2items", json!([{"key": "a", "value": 1}])),
        ("{'a': 1} | dict2items(key_name='k', value_name='v')", json!([{"k": "a", "v": 1}])),
        ("kv | items2dict", json!({"a": 1})),
        ("d1 | combine(d2)", json!({"a": 1, "b": {"y": 2}, "c": 3})),
        ("d1 | combine(d2, recursive=true)", json!({"a": 1, "b": {"x": 1, "y": 2}, "c": 3})),
        ("{'l': [1]} | combine({'l': [2]}, list_merge='append')", json!({"l": [1, 2]})),
        ("nested | flatten", json!([1, 2, 3, 4])),
        ("nested | flatten(levels=1)", json!([1, 2, 3, [4]])),
        ("'{\"a\": [1]}' | from_json", json!({"a": [1]})),
        ("'a: [1, 2]' | from_yaml", json!({"a": [1, 2]})),
        ("pod_cidr | regex_search('^[0-9.]+')", json!("10.244.0.0")),
        ("pod_cidr | regex_search('/(\\\\d+)', '\\\\1')", json!(["16"])),
        ("pod_cidr | regex_search('nomatch')", json!(null)),
        ("'a1b22' | regex_findall('\\\\d+')", json!(["1", "22"])),
        ("'k=v,x=y' | regex_findall('(\\\\w)=(\\\\w)')", json!([["k", "v"], ["x", "y"]])),
        ("'a,b' | split(',')", json!(["a", "b"])),
        ("[1, 5, 3] | min", json!(1)),
        ("[1, 5, 3] | max", json!(5)),
        ("[1, 5, 3] | sum", json!(9)),
        ("true | ternary('a', 'b')", json!("a")),
        ("none | ternary('a', 'b', 'n')", json!("n")),
        ("nodes | select('match', '^w') | list", json!(["w1", "w2"])),
        ("nodes | reject('search', '1') | list", json!(["w2"])),
        ("[{'n': 1, 'on': true}, {'n': 2, 'on': false}] | selectattr('on') | map(attribute='n') | list", json!([1])),
        ("[1, 2] | union([2, 3])", json!([1, 2, 3])),
        ("[1, 2] | intersect([2, 3])", json!([2])),
        ("[1, 2] | difference([2, 3])", json!([1])),
        ("nodes | type_debug", json!("list")),
        ("res is changed", json!(true)),
        ("res is failed", json!(false)),
        ("res is succeeded", json!(true)),
        ("skipres is skipped", json!(true)),
    ];
    let v = vars();
    for (expr, want) in cases {
        let got = r
            .render_value(&json!(format!("{{{{ {expr} }}}}")), &v)
            .map_err(|e| e.to_string());
        assert_eq!(got.as_ref(), Ok(want), "{expr}");
    }
}

/// Template text → the string it renders to.
#[test]
fn strings_render_to_text() {
    let r = Renderer::new();
    let cases: &[(&str, &str)] = &[
        ("plain text", "plain text"),
        ("cidr={{ pod_cidr }}", "cidr=10.244.0.0/16"),
        ("{{ nodes[0] }}-{{ nodes[1] }}", "cp1-w1"),
        ("{{ path | basename }}", "admin.conf"),
        ("{{ path | dirname }}", "/etc/kubernetes"),
        ("{{ 'a/' | basename }}|", "|"),
        ("{{ 'x' | dirname }}|", "|"),
        ("{{ 'hello' | b64encode }}", "aGVsbG8="),
        ("{{ 'aGVsbG8=' | b64decode }}", "hello"),
        ("{{ \"it's\" | quote }}", "'it'\"'\"'s'"),
        ("{{ 'safe-word_1.2' | quote }}", "safe-word_1.2"),
        ("{{ '' | quote }}", "''"),
        ("{{ 'a b' | quote }}", "'a b'"),
        (
            "{{ pod_cidr | regex_replace('^(\\\\d+)\\\\.', 'X\\\\1.') }}",
            "X10.244.0.0/16",
        ),
        (
            "{{ 'aXbX' | regex_replace('x', '-', ignorecase=true) }}",
            "a-b-",
        ),
        ("{{ 'a.b' | replace('.', '_') }}", "a_b"),
        (
            "{{ {'b': [1, 2], 'a': 'x'} | to_json }}",
            "{\"a\": \"x\", \"b\": [1, 2]}",
        ),
        (
            "{{ {'a': [1]} | to_nice_json }}",
            "{\n    \"a\": [\n        1\n    ]\n}",
        ),
        ("{{ {'a': [1]} | to_yaml }}", "a:\n- 1\n"),
        ("{{ {'a': 1} | to_nice_yaml }}", "a: 1\n"),
        (
            "{{ 'abc' | hash('sha256') }}",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            "{{ 'abc' | hash('sha1') }}",
            "a9993e364706816aba3e25717850c26c9cd0d89d",
        ),
        ("{{ 'a.b' | regex_escape }}", "a\\.b"),
        // Python methods, as Ansible's templates use them.
        ("{{ '1.31.4'.split('.')[:2] | join('.') }}", "1.31"),
        ("{{ 'yes' if 'node1'.startswith('node') else 'no' }}", "yes"),
        ("{{ ' x '.strip() ~ 'Ab'.lower() }}", "xab"),
        ("{% if x is defined %}d{% else %}u{% endif %}", "u"),
        ("{% if x is undefined %}u{% endif %}", "u"),
        ("{{ x | default('dflt') }}", "dflt"),
        ("{% for n in nodes %}{{ n }} {% endfor %}", "cp1 w1 w2 "),
        ("{{ nodes | map('upper') | join(' ') }}", "CP1 W1 W2"),
        ("{{ omit }}", super::OMIT),
    ];
    let v = vars();
    for (tmpl, want) in cases {
        let got = r.render_value(&json!(tmpl), &v).map_err(|e| e.to_string());
        assert_eq!(got, Ok(json!(want)), "{tmpl}");
    }
}

/// Conditions as `when:` holds them → their truth.
#[test]
fn conditions_follow_jinja_truthiness() {
    let r = Renderer::new();
    let cases: &[(&str, bool)] = &[
        ("true", true),
        ("false", false),
        ("nodes | length > 2", true),
        ("'cp1' in nodes", true),
        ("{{ 'cp1' in nodes }}", true),
        ("  {{ empty }}  ", false),
        ("yes_str", true),
        ("off_str", true),
        ("off_str | bool", false),
        ("empty", false),
        ("nothing", false),
        ("x is defined", false),
        ("x is undefined", true),
        ("x is not defined or x", true),
        ("os.version is defined", true),
        ("os.codename is defined", false),
        ("missing | default(false) | bool", false),
        ("missing | default('yes') | bool", true),
        ("os.version | int >= 12", true),
        ("ver is version('1.28', '>=')", true),
        ("ver is version('1.28.10', '<')", true),
        ("ver is version('1.9', '>')", true),
        ("ver is version('1.28.3', 'eq')", true),
        ("ver is version('1.28.3')", true),
        ("os.version is version('12', '>=')", true),
        ("os.version is version_compare('11', 'lt')", false),
        ("ver is version('v1.29.0', operator='lt')", true),
        ("pod_cidr is match('10\\\\.')", true),
        ("pod_cidr is match('244')", false),
        ("pod_cidr is search('244')", true),
        ("pod_cidr is regex('^10')", true),
        ("'DEBIAN' is match('deb', ignorecase=true)", true),
        ("text is search('^line two', multiline=true)", true),
        ("nothing is none", true),
        ("pod_cidr is string", true),
        ("ports[0] is number", true),
        ("os is mapping", true),
        ("nodes is sequence", true),
        ("nodes is iterable", true),
        ("nodes is contains('w1')", true),
        ("['w1'] is subset(nodes)", true),
        ("res.rc == 0 and res is not failed", true),
    ];
    let v = vars();
    for (expr, want) in cases {
        let got = r.eval_bool(expr, &v).map_err(|e| e.to_string());
        assert_eq!(got, Ok(*want), "{expr}");
    }
}

/// Undefined variables and other mistakes → one clear message.
#[test]
fn errors_name_what_is_wrong() {
    let r = Renderer::new();
    let v = vars();
    let render: &[(&str, &str)] = &[
        ("{{ pod_cidrr }}", "undefined variable `pod_cidrr`"),
        ("net={{ pod_cidrr }}", "undefined variable `pod_cidrr`"),
        ("{{ os.codename }}", "undefined variable `os.codename`"),
        ("{{ nope.x }}", "undefined variable `nope`"),
        ("{{ nope | upper }}", "undefined variable `nope`"),
        ("{{ nope | bool }}", "undefined variable `nope`"),
        ("{{ nope | int }}", "undefined variable `nope`"),
        ("{{ nope | to_json }}", "undefined variable `nope`"),
        ("{{ nope | mandatory }}", "undefined variable `nope`"),
        (
            "{{ nope | mandatory('set nope in the inventory') }}",
            "set nope in the inventory",
        ),
        (
            "{% for n in nope %}{% endfor %}",
            "undefined variable `nope`",
        ),
        (
            "{{ 'x' | regex_search('(') }}",
            "invalid operation: invalid regular expression `(`: error: unclosed group",
        ),
        (
            "{{ 'x' | nosuch }}",
            "unknown filter: filter nosuch is unknown",
        ),
        (
            "{{ 'x' | from_json }}",
            "invalid operation: from_json: expected value at line 1 column 1",
        ),
        (
            "{{ 'x' | hash('md4') }}",
            "invalid operation: hash: unsupported algorithm `md4`",
        ),
        (
            "{{ os | items2dict }}",
            "invalid operation: items2dict expects a list, got map",
        ),
    ];
    for (tmpl, want) in render {
        let got = r.render_value(&json!(tmpl), &v).unwrap_err().to_string();
        assert!(got.starts_with(want), "{tmpl}: got {got:?}, want {want:?}");
    }
    let conds: &[(&str, &str)] = &[
        ("missing_var", "undefined variable `missing_var`"),
        ("missing_var == 1", "undefined variable `missing_var`"),
        ("os.codename == 'x'", "undefined variable `os.codename`"),
        ("missing_var | bool", "undefined variable `missing_var`"),
        (
            "1 ==",
            "syntax error: unexpected end of input, expected expression",
        ),
        ("res is frobbed", "unknown test: test frobbed is unknown"),
        (
            "ver is version('1', 'about')",
            "invalid operation: version: unknown operator `about`",
        ),
    ];
    for (expr, want) in conds {
        let got = r.eval_bool(expr, &v).unwrap_err().to_string();
        assert!(got.starts_with(want), "{expr}: got {got:?}, want {want:?}");
    }
}

#[test]
fn omit_drops_an_argument_and_nesting_renders() {
    let r = Renderer::new();
    let args = json!({
        "dest": "/etc/{{ os.name | lower }}.conf",
        "mode": "{{ mode | default(omit) }}",
        "lines": ["{{ nodes[0] }}", "{{ ports }}", 7],
        "{{ 'key' }}": true,
    });
    let got = r.render_value(&args, &vars()).unwrap();
    assert_eq!(
        got,
        json!({"dest": "/etc/debian.conf", "lines": ["cp1", [6443, 10250], 7], "key": true})
    );
}

#[test]
fn templates_are_never_escaped_whatever_their_name() {
    // minijinja would escape `*.yaml.j2` as JSON and `*.html.j2` as HTML.
    let r = Renderer::new();
    for name in ["kubeadm.yaml.j2", "page.html.j2", "x.json.j2", "plain.j2"] {
        assert_eq!(
            r.render_text(
                name,
                "v: {{ s }}\n",
                &minijinja::context! { s => "a<b & \"c\"" }
            )
            .unwrap(),
            "v: a<b & \"c\"\n",
            "{name}"
        );
    }
}

#[test]
fn template_files_keep_the_final_newline_and_trim_blocks() {
    let r = Renderer::new();
    let text = "{% for n in nodes %}\n{{ n }}\n{% endfor %}\nend\n";
    assert_eq!(
        r.render_text("hosts.j2", text, &vars()).unwrap(),
        "cp1\nw1\nw2\nend\n"
    );
    let err = r
        .render_text(
            "kubeadm.yaml.j2",
            "a\n{{ pod_cidr }}\n{{ nope }}\n",
            &vars(),
        )
        .unwrap_err()
        .to_string();
    assert_eq!(err, "kubeadm.yaml.j2:3: undefined variable `nope`");
    let err = r
        .render_text("bad.j2", "{% if %}", &vars())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("bad.j2:1: syntax error: "), "{err}");
}

#[test]
fn hostile_input_does_not_panic() {
    let r = Renderer::new();
    let v = vars();
    for s in [
        "{{",
        "}}",
        "{{ }}",
        "{% %}",
        "{{ 'a' | int(base=99) }}",
        "{{ [] | first }}",
        "{{ 1/0 }}",
        "{{ 'x' | b64decode }}",
        "{{ {} | combine(1) }}",
        "{{ 'é' | regex_replace('\\\\g<1', '') }}",
        "{{ '' | version('1') }}",
        "{{ 1 | flatten }}",
        "{{- nodes -}}",
    ] {
        let _ = r.render_value(&json!(s), &v);
        let _ = r.eval_bool(s, &v);
    }
}

/// A single expression followed by one newline, as ansible-core 2.19 renders
/// it (checked with ansible-playbook: `content: "{{ 7 }}\n"` writes `7`).
#[test]
fn one_expression_and_a_final_newline_keep_the_type_unless_a_string() {
    let r = Renderer::new();
    let cases: &[(&str, Json)] = &[
        ("{{ ports[0] }}\n", json!(6443)),
        ("{{ nodes }}\n", json!(["cp1", "w1", "w2"])),
        ("{{ 'w' }}\n", json!("w\n")),
        ("{{ num_str }}\n", json!("42\n")),
        ("{{ ports[0] }}\n\n", json!("6443\n\n")),
        ("{{ ports[0] }} \n", json!("6443 \n")),
        ("x{{ ports[0] }}\n", json!("x6443\n")),
    ];
    for (text, want) in cases {
        let got = r.render_value(&json!(text), &vars()).unwrap();
        assert_eq!(&got, want, "{text:?}");
    }
}

/// An undefined variable given to a filter is an error, as in Ansible,
/// whatever the filter (minijinja's own `join` read it as ""); most name it.
#[test]
fn an_undefined_variable_into_a_filter_is_an_error() {
    let r = Renderer::new();
    for tmpl in [
        "{{ nope | join('-') }}",
        "{{ nope | length }}",
        "{{ nope | first }}",
        "{{ nope | last }}",
        "{{ nope | list }}",
        "{{ nope | sort }}",
        "{{ nope | unique }}",
        "{{ nope | map('upper') | list }}",
        "{{ nope | select | list }}",
        "{{ nope | trim }}",
        "{{ nope | lower }}",
        "{{ nope | replace('a', 'b') }}",
        "{{ nope | string }}",
        "{{ nope | dict2items }}",
        "{{ nope | flatten }}",
        "{{ nope | min }}",
        "{{ nope | combine({}) }}",
        "{{ nope | b64encode }}",
        "{{ nope | split(',') }}",
        "{{ nope ~ 'x' }}",
    ] {
        match r.render_value(&json!(tmpl), &vars()) {
            Ok(v) => panic!("{tmpl}: rendered {v}"),
            Err(e) if tmpl.contains("join") || tmpl.contains("first") => {
                assert!(
                    e.to_string().contains("undefined variable `nope`"),
                    "{tmpl}: {e}"
                )
            }
            Err(_) => {}
        }
    }
}
