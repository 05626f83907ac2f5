# Inputs for bench/run's real-program benchmarks, generated so nothing big
# is stored in the repository.  Deterministic: the same arguments give the
# same bytes.
#   python3 gen_inputs.py c FUNCS     a C file for gcc -O2 (FUNCS functions
#                                     with loops, switches, structs, inlining)
#   python3 gen_inputs.py sql ROWS    a SQL script for sqlite3: bulk insert
#                                     of ROWS rows in one transaction, an
#                                     index, aggregate and join queries
import sys


def c_file(n):
    out = ["#include <stddef.h>", "#include <string.h>",
           "struct rec { int a, b; double c; char name[32]; struct rec *next; };",
           "static inline int mixi(int x, int y) { return (x * 31) ^ (y >> 3) ^ (x + y); }"]
    for i in range(n):
        k = i % 13 + 2
        out.append(f"""
static int helper{i}(const struct rec *r, int n)
{{
	int s = {i};
	for (int j = 0; j < n; j++) {{
		switch ((r[j].a + j) % {k}) {{
""" + "".join(f"\t\tcase {c}: s += mixi(r[j].b, {c * 7 + i}) * {c + 1}; break;\n" for c in range(k)) + f"""		default: s -= r[j].a; break;
		}}
		if (r[j].c > {i % 17}.5)
			s ^= (int)(r[j].c * {k});
	}}
	return s;
}}

int func{i}(struct rec *r, int n, char *buf)
{{
	int acc = helper{i}(r, n);
	double d = 0;
	for (struct rec *p = r; p; p = p->next) {{
		d += p->c * {i % 7 + 1};
		if (p->a > acc % {k + 5})
			acc += mixi(p->a, p->b);
		else
			memcpy(buf + (acc & 15), p->name, 8);
	}}
	for (int j = 0; j < {k * 3}; j++)
		buf[j] = (char)(buf[j] + j * {i % 5 + 1} + (int)d);
	return acc + (int)d + {'func%d(r, n - 1, buf)' % (i - 1) if i else '0'} * (n > 1000);
}}""")
    return "\n".join(out) + "\n"


def sql_file(rows):
    out = ["PRAGMA cache_size = -200000;",
           "CREATE TABLE item(id INTEGER PRIMARY KEY, cat INTEGER, name TEXT, price REAL, note TEXT);",
           "CREATE TABLE cat(id INTEGER PRIMARY KEY, label TEXT);",
           "BEGIN;"]
    for c in range(100):
        out.append(f"INSERT INTO cat VALUES({c}, 'category-{c * 37 % 101}');")
    for i in range(rows):
        h = (i * 2654435761) % 4294967296
        out.append(f"INSERT INTO item(cat, name, price, note) VALUES({h % 100}, 'name-{h % 100003}', "
                   f"{(h % 100000) / 100.0}, '{'n' * (h % 60)}{i}');")
    out.append("COMMIT;")
    out += [
        "CREATE INDEX item_name ON item(name);",
        "CREATE INDEX item_cat_price ON item(cat, price);",
        "SELECT count(*), sum(price), max(length(note)) FROM item;",
        "SELECT c.label, count(*), round(avg(i.price), 2) FROM item i JOIN cat c ON c.id = i.cat "
        "GROUP BY c.label ORDER BY count(*) DESC, c.label LIMIT 10;",
        "SELECT name, count(*) AS n FROM item GROUP BY name HAVING n > 1 ORDER BY n DESC, name LIMIT 10;",
        "SELECT count(*) FROM item a JOIN item b ON a.name = b.name AND a.id < b.id;",
        "SELECT group_concat(id) FROM (SELECT id FROM item WHERE cat = 42 ORDER BY price DESC, id LIMIT 20);",
        "UPDATE item SET note = note || '-upd' WHERE cat % 3 = 0;",
        "DELETE FROM item WHERE cat % 5 = 0;",
        "SELECT count(*), sum(length(note)) FROM item;",
        "SELECT cat, count(DISTINCT name) FROM item GROUP BY cat ORDER BY cat LIMIT 5;",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    what, n = sys.argv[1], int(sys.argv[2])
    sys.stdout.write(c_file(n) if what == "c" else sql_file(n))
