//! The filters added from Ansible's core set, against the values Ansible's documentation (or Python's own library) gives.

use serde_json::{json, Value as Json};

use super::{to_jinja, Renderer};

fn eval(expr: &str) -> Result<Json, String> {
    let vars = to_jinja(&json!({
        "users": [
            {"name": "alice", "groups": ["wheel", "docker"], "auth": {"keys": ["k1"]}},
            {"name": "bob", "groups": []},
            {"name": "carol"},
        ],
    }));
    Renderer::new()
        .render_value(&Json::from(format!("{{{{ {expr} }}}}")), &vars)
        .map_err(|e| e.to_string())
}

#[test]
fn filters_give_ansibles_values() {
    let url = "'http://user:password@www.acme.com:9000/dir/index.html?query=term#fragment'";
    let table: Vec<(String, Json)> = vec![
        // hash, checksum: Python's hashlib.
        ("'test2' | hash('md5')".into(), json!("ad0234829205b9033196ba818f7a872b")),
        ("'test2' | hash('sha1')".into(), json!("109f4b3c50d7b0df729d299bc6f8e9ef9066971f")),
        ("'test2' | checksum".into(), json!("109f4b3c50d7b0df729d299bc6f8e9ef9066971f")),
        (
            "'test2' | hash('sha256')".into(),
            json!("60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"),
        ),
        // password_hash: glibc's crypt(3) with the same salt and rounds.
        (
            "'secretpassword' | password_hash('sha512', 'mysecretsalt')".into(),
            json!("$6$rounds=656000$mysecretsalt$RGkVc8/h4IQxlxsb//ahyq4GH0Bvc1ENv0qW5P1KcACBpC8HNJyZdSzMRe7.stantD.7CsCOf2PrwfQmogGyB1"),
        ),
        (
            "'secretpassword' | password_hash('sha512', 'mysecretsalt', rounds=5000)".into(),
            json!("$6$mysecretsalt$nQRJs5iDdLkE1YuYaWUle1uQ2ROJ7j8ernLYmyY57MnZquqWdJ.uj6dgD4n9GKKk5qZMEx9bsIMylVAlQacGK1"),
        ),
        (
            "'secretpassword' | password_hash('sha256', salt='mysecretsalt')".into(),
            json!("$5$rounds=535000$mysecretsalt$q4oGLc.HTSE5UpKmUH2bBltx1Z3i6k41AWOTdR7lqmD"),
        ),
        (
            "'pw' | password_hash('sha512', '0123456789abcdefXYZ', rounds=5000)".into(),
            json!("$6$0123456789abcdef$zAYvvEJcrKSqV2KUPTUM1K9eaGv20n9mUjWSDZW0QnwBRk0LSoTIT3PW7mCEa30acQuLwC1rnfhmbdGOSp.jX."),
        ),
        ("'pw' | password_hash('sha512', rounds=5000) | length".into(), json!(3 + 16 + 1 + 86)),
        // to_uuid: uuid5 in Ansible's namespace.
        ("'example.com' | to_uuid".into(), json!("ae780c3a-a3ab-53c2-bfb4-098da300b3fe")),
        // zip, zip_longest, product: Python's zip and itertools.
        ("[1, 2, 3] | zip(['a', 'b'])".into(), json!([[1, "a"], [2, "b"]])),
        ("[1, 2] | zip(['a', 'b'], [true, false])".into(), json!([[1, "a", true], [2, "b", false]])),
        ("[1, 2, 3] | zip_longest(['a'])".into(), json!([[1, "a"], [2, null], [3, null]])),
        ("[1, 2] | zip_longest([], fillvalue='x')".into(), json!([[1, "x"], [2, "x"]])),
        ("[1, 2] | product(['a', 'b'])".into(), json!([[1, "a"], [1, "b"], [2, "a"], [2, "b"]])),
        ("[0, 1] | product(repeat=2)".into(), json!([[0, 0], [0, 1], [1, 0], [1, 1]])),
        // subelements: each item with each element of its list.
        (
            "users | subelements('groups', skip_missing=True) | map('last') | list".into(),
            json!(["wheel", "docker"]),
        ),
        (
            "users[:1] | subelements('auth.keys') | map('first') | map(attribute='name') | list".into(),
            json!(["alice"]),
        ),
        // ipaddr: ansible.utils' documented queries.
        ("'192.24.2.1/24' | ansible.utils.ipaddr('address')".into(), json!("192.24.2.1")),
        ("'192.24.2.1/24' | ipaddr('network')".into(), json!("192.24.2.0")),
        ("'192.24.2.1/24' | ipaddr('netmask')".into(), json!("255.255.255.0")),
        ("'192.24.2.1/24' | ipaddr('prefix')".into(), json!(24)),
        ("'192.24.2.1/24' | ipaddr('broadcast')".into(), json!("192.24.2.255")),
        ("'192.24.2.1/24' | ipaddr('size')".into(), json!(256)),
        ("'192.24.2.1/24' | ipaddr('host')".into(), json!("192.24.2.1/24")),
        ("'192.24.2.1/24' | ipaddr('cidr')".into(), json!("192.24.2.0/24")),
        ("'192.168.122.0/24' | ipaddr(20)".into(), json!("192.168.122.20/24")),
        ("'192.168.122.0/24' | ipaddr(-1)".into(), json!("192.168.122.255/24")),
        ("'10.233.64.0/18' | ipaddr('net') | ipaddr(1) | ipaddr('address')".into(), json!("10.233.64.1")),
        ("'10.0.0.0/255.255.0.0' | ipaddr('prefix')".into(), json!(16)),
        ("'2001:db8::1/64' | ipaddr('network')".into(), json!("2001:db8::")),
        ("'fe80::1' | ipaddr('prefix')".into(), json!(128)),
        ("'10.0.0.1' | ipaddr".into(), json!("10.0.0.1")),
        ("'not an address' | ipaddr".into(), json!(false)),
        ("['10.0.0.1', 'x', '8.8.8.8'] | ipaddr('private')".into(), json!(["10.0.0.1"])),
        ("['10.0.0.1', 'x', '8.8.8.8'] | ipaddr('public')".into(), json!(["8.8.8.8"])),
        // urlsplit: Python's urllib.parse.urlsplit.
        (format!("{url} | urlsplit('hostname')"), json!("www.acme.com")),
        (
            format!("{url} | urlsplit"),
            json!({"fragment": "fragment", "hostname": "www.acme.com",
                   "netloc": "user:password@www.acme.com:9000", "password": "password",
                   "path": "/dir/index.html", "port": 9000, "query": "query=term",
                   "scheme": "http", "username": "user"}),
        ),
        // dict2items / items2dict with their key and value names.
        (
            "{'a': 1} | dict2items(key_name='k', value_name='v')".into(),
            json!([{"k": "a", "v": 1}]),
        ),
        (
            "[{'k': 'a', 'v': 1}] | items2dict(key_name='k', value_name='v')".into(),
            json!({"a": 1}),
        ),
        // combine, recursive and with list_merge.
        (
            "{'a': {'x': [1]}} | combine({'a': {'x': [2], 'y': 3}}, recursive=True, list_merge='append')".into(),
            json!({"a": {"x": [1, 2], "y": 3}}),
        ),
        ("'a.b*c' | regex_escape".into(), json!("a\\.b\\*c")),
    ];
    for (expr, want) in table {
        assert_eq!(eval(&expr), Ok(want), "{expr}");
    }
}

#[test]
fn bad_filter_input_is_refused_with_a_reason() {
    let table = [
        ("'x' | hash('crc32')", "hash: unsupported algorithm `crc32`"),
        (
            "'x' | password_hash('blowfish')",
            "password_hash: `blowfish` is not supported",
        ),
        (
            "'x' | password_hash('sha512', 'bad salt!')",
            "must be letters, digits",
        ),
        (
            "'x' | password_hash('sha512', 'salt', rounds=10)",
            "rounds must be 1000",
        ),
        (
            "'x' | to_uuid(namespace='nope')",
            "to_uuid: invalid namespace",
        ),
        (
            "users | subelements('groups')",
            "could not find \"groups\" key",
        ),
        ("users | subelements('name')", "should point to a list"),
        (
            "'10.0.0.1/8' | ipaddr('wat')",
            "ipaddr: query `wat` is not supported",
        ),
        (
            "'http://h/' | urlsplit('nope')",
            "unknown URL component: nope",
        ),
        ("3 | zip([1])", "zip expects a list"),
    ];
    for (expr, want) in table {
        let err = eval(expr).unwrap_err();
        assert!(err.contains(want), "{expr}: {err}");
    }
}

#[test]
fn password_hash_without_a_salt_changes_every_time() {
    let a = eval("'pw' | password_hash('sha512', rounds=5000)").unwrap();
    let b = eval("'pw' | password_hash('sha512', rounds=5000)").unwrap();
    assert_ne!(a, b);
}

#[test]
fn ansible_managed_is_ansibles_default_unless_a_variable_sets_it() {
    let r = Renderer::new();
    let text = "# {{ ansible_managed }}\n";
    let plain = r.render_text("t.j2", text, &to_jinja(&json!({}))).unwrap();
    assert_eq!(plain, "# Ansible managed\n");
    let mine = to_jinja(&json!({"ansible_managed": "managed by ops"}));
    assert_eq!(
        r.render_text("t.j2", text, &mine).unwrap(),
        "# managed by ops\n"
    );
}
