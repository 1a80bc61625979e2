//! Ansible's list-combining filters: `zip`, `zip_longest`, `product` and `subelements`.

use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, State, Value};

use super::filters::{defined, invalid, items};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("zip", zip);
    env.add_filter("zip_longest", zip_longest);
    env.add_filter("product", product);
    env.add_filter("subelements", subelements);
}

/// The value and the other lists, each as a list.
fn lists(v: &Value, others: &[Value], filter: &str) -> Result<Vec<Vec<Value>>, Error> {
    std::iter::once(v)
        .chain(others)
        .map(|l| items(l, filter))
        .collect()
}

/// `[1, 2] | zip(['a', 'b'])` → `[[1, 'a'], [2, 'b']]`, as long as the shortest.
fn zip(state: &State, v: &Value, others: Rest<Value>) -> Result<Value, Error> {
    defined(state, v)?;
    let lists = lists(v, &others, "zip")?;
    let n = lists.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Value::from(
        (0..n)
            .map(|i| Value::from(lists.iter().map(|l| l[i].clone()).collect::<Vec<_>>()))
            .collect::<Vec<_>>(),
    ))
}

/// `zip_longest(…, fillvalue=None)`: as long as the longest, the others filled.
fn zip_longest(
    state: &State,
    v: &Value,
    others: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    defined(state, v)?;
    let fill = kwargs
        .get::<Option<Value>>("fillvalue")?
        .unwrap_or(Value::from(()));
    kwargs.assert_all_used()?;
    let lists = lists(v, &others, "zip_longest")?;
    let n = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok(Value::from(
        (0..n)
            .map(|i| {
                Value::from(
                    lists
                        .iter()
                        .map(|l| l.get(i).cloned().unwrap_or_else(|| fill.clone()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

/// `[1, 2] | product(['a', 'b'])`: every combination, the last list
/// varying fastest (Python's itertools.product); `repeat=N` repeats the lists.
fn product(state: &State, v: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    defined(state, v)?;
    let repeat = kwargs.get::<Option<usize>>("repeat")?.unwrap_or(1);
    kwargs.assert_all_used()?;
    let lists = lists(v, &others, "product")?;
    let mut out: Vec<Vec<Value>> = vec![Vec::new()];
    for _ in 0..repeat {
        for l in &lists {
            out = out
                .iter()
                .flat_map(|prefix| {
                    l.iter().map(move |x| {
                        let mut p = prefix.clone();
                        p.push(x.clone());
                        p
                    })
                })
                .collect();
        }
    }
    Ok(Value::from(
        out.into_iter().map(Value::from).collect::<Vec<_>>(),
    ))
}

/// `users | subelements('groups', skip_missing=False)`: each item with each
/// element of its list under the key (a dotted path reaches inside).
fn subelements(
    state: &State,
    v: &Value,
    key: String,
    skip_missing: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    defined(state, v)?;
    let skip_missing = kwargs
        .get::<Option<bool>>("skip_missing")?
        .or(skip_missing)
        .unwrap_or(false);
    kwargs.assert_all_used()?;
    let elements = match v.kind() {
        ValueKind::Map => v
            .try_iter()?
            .map(|k| v.get_item(&k))
            .collect::<Result<Vec<_>, _>>()?,
        _ => items(v, "subelements")?,
    };
    let mut out = Vec::new();
    'items: for item in elements {
        let mut sub = item.clone();
        for part in key.split('.') {
            let next = sub.get_attr(part).ok().filter(|n| !n.is_undefined());
            match next {
                Some(n) => sub = n,
                None if skip_missing => continue 'items,
                None => {
                    return Err(invalid(format!(
                        "subelements: could not find {part:?} key in iterated item {item}"
                    )))
                }
            }
        }
        if sub.kind() != ValueKind::Seq {
            return Err(invalid(format!(
                "subelements: the key {key:?} should point to a list, got {sub}"
            )));
        }
        for s in sub.try_iter()? {
            out.push(Value::from(vec![item.clone(), s]));
        }
    }
    Ok(Value::from(out))
}
