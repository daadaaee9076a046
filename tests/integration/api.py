"""api.py - the REST API of `crier serve` with a real HTTP client: login, cookies and CSRF,
API keys, 401 without authentication and the roles on every route, each resource against
the CLI's JSON for the same object, the filter search and its pages, error shapes, the
OpenAPI description against the router (and against the route table in src/api/routes.c),
and the seed-001 delivery and workflow driven through the API while the CLI runs the engine.
"""
import http.client
import json
import os
import re

from crier_test import expect, main
from cli_tracking import Server, free_port
from cli_workflow import EXAMPLES, setup as workflow_setup

ROUTES_C = os.path.join(os.path.dirname(__file__), "..", "..", "src", "api", "routes.c")
PASSWORD = "correct horse battery"
ROLES = ("viewer", "operator", "admin")


class Api:
    """A client of one server: request() answers (status, headers, JSON or None)."""

    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=None, key=None, cookie=None, csrf=None, headers=None,
                raw=None, chunked=False):
        h = dict(headers or {})
        if key:
            h["Authorization"] = "Bearer " + key
        if cookie:
            h["Cookie"] = "crier_session=" + cookie
        if csrf:
            h["X-CSRF-Token"] = csrf
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            try:
                conn.request(method, "/api/v1" + path, body=data, headers=h,
                             encode_chunked=chunked)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before the whole body was sent: the answer is waiting
            r = conn.getresponse()
            text = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()
        try:
            j = json.loads(text) if text else None
        except ValueError:
            j = None
        return r.status, hdrs, j

    def ok(self, method, path, **kw):
        st, _, j = self.request(method, path, **kw)
        expect(st in (200, 201), f"{method} {path}: {st} {j}")
        return j

    def error(self, status, method, path, code=None, field=None, **kw):
        st, h, j = self.request(method, path, **kw)
        expect(st == status, f"{method} {path}: status {st}, expected {status}: {j}")
        e = j and j.get("error")
        expect(isinstance(e, dict) and isinstance(e.get("code"), str) and
               isinstance(e.get("message"), str) and e["message"],
               f"{method} {path}: error shape {j}")
        expect(code is None or e["code"] == code, f"{method} {path}: code {e['code']} != {code}")
        expect(field is None or e.get("field") == field,
               f"{method} {path}: field {e.get('field')} != {field}")
        return e, h

    def login(self, name, password=PASSWORD):
        st, h, j = self.request("POST", "/login", {"name": name, "password": password})
        expect(st == 200, f"login {name}: {st} {j}")
        m = re.match(r"crier_session=([A-Za-z0-9_-]+);", h.get("set-cookie", ""))
        expect(m, f"login sets the session cookie: {h}")
        return m.group(1), j["csrf_token"], h["set-cookie"], j


def users(c):
    """An admin, an operator and a viewer, each with an API key: {role: key}."""
    keys = {}
    for role in ROLES:
        c.run("user", "add", role + "1", "--role", role, "--password-env", "PW",
              env={"PW": PASSWORD})
        keys[role] = c.json("apikey", "create", "--user", role + "1", "--json")["key"]
    return keys


def table_routes():
    """(METHOD, pattern) of every entry of src/api/routes.c, read from the source."""
    src = open(ROUTES_C).read()
    return sorted(set(re.findall(r'\{"(GET|POST|PUT|PATCH|DELETE)", "([^"]+)"', src)))


def spec_routes(spec):
    return sorted((m.upper(), p) for p, ops in spec["paths"].items() for m in ops)


def concrete(pattern, id_=999999):
    return pattern.replace("{id}", str(id_))


# ------------------------------------------------------------------------------- tests --

def test_login_sessions_and_csrf(c):
    c.run("init")
    users(c)
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        api.error(401, "POST", "/login", "login_failed",
                  body={"name": "admin1", "password": "wrong password"})
        api.error(401, "POST", "/login", "login_failed",
                  body={"name": "nobody", "password": PASSWORD})
        api.error(400, "POST", "/login", field="password", body={"name": "admin1"})
        api.error(400, "POST", "/login", "invalid_json", raw=b'{"name": ',
                  headers={"Content-Type": "application/json"})
        api.error(415, "POST", "/login", raw=b"name=admin1&password=x",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        cookie, csrf, header, body = api.login("operator1")
        flags = [f.strip() for f in header.split(";")[1:]]
        expect("HttpOnly" in flags and "SameSite=Strict" in flags and "Path=/" in flags,
               f"cookie flags: {header}")
        expect("Secure" not in flags, "no Secure flag over http")
        expect(any(f.startswith("Max-Age=") and int(f[8:]) > 0 for f in flags), header)
        expect(body["user"]["name"] == "operator1" and body["user"]["role"] == "operator", body)
        expect(len(csrf) >= 32, "a CSRF token")
        me = api.ok("GET", "/me", cookie=cookie)
        expect(me["name"] == "operator1" and me["auth"] == "session" and
               me["csrf_token"] == csrf, me)
        # unsafe methods with the cookie need the CSRF token
        api.error(403, "POST", "/deliveries/5/prepare", "csrf", cookie=cookie)
        api.error(403, "POST", "/deliveries/5/prepare", "csrf", cookie=cookie, csrf="x" * 43)
        api.error(404, "POST", "/deliveries/5/prepare", "not_found", cookie=cookie, csrf=csrf)
        api.error(403, "POST", "/logout", "csrf", cookie=cookie)
        st, h, j = api.request("POST", "/logout", cookie=cookie, csrf=csrf)
        expect(st == 200 and "Max-Age=0" in h.get("set-cookie", ""), f"logout: {st} {h}")
        api.error(401, "GET", "/me", "session_expired", cookie=cookie)
        api.error(401, "GET", "/me", cookie="forged" * 7 + "x")
        # https public URL: Secure cookie
        c.run("config", "set", "public_url", "https://crier.example")
        _, _, header, _ = api.login("viewer1")
        expect("Secure" in [f.strip() for f in header.split(";")], f"Secure over https: {header}")


def test_api_keys(c):
    c.run("init")
    keys = users(c)
    listed = c.json("user", "list", "--json")
    expect([(u["name"], u["role"], u["api_keys"]) for u in listed] ==
           [("viewer1", "viewer", 1), ("operator1", "operator", 1), ("admin1", "admin", 1)],
           f"user list: {listed}")
    key = keys["operator"]
    expect(re.fullmatch(r"crk_[A-Za-z0-9_-]{43}", key), f"key format: {key}")
    stored = c.json("apikey", "list", "--json")
    expect(all(key not in json.dumps(k) for k in stored) and
           any(key.startswith(k["prefix"]) for k in stored), "only a prefix is listed")
    c.run("user", "add", "x", "--role", "root", "--password-env", "PW", env={"PW": PASSWORD},
          status=2)
    c.run("user", "add", "shorty", "--role", "viewer", "--password-env", "PW",
          env={"PW": "short"}, status=2)
    c.run("user", "add", "admin1", "--role", "viewer", "--password-env", "PW",
          env={"PW": PASSWORD}, status=2)
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        me = api.ok("GET", "/me", key=key)
        expect(me["name"] == "operator1" and me["auth"] == "api_key" and "csrf_token" not in me,
               me)
        # no CSRF with a key
        api.error(404, "POST", "/deliveries/77/confirm", "not_found", key=key)
        api.error(401, "GET", "/me", "invalid_api_key", key=key[:-1] + ("A" if key[-1] != "A"
                                                                        else "B"))
        api.error(401, "GET", "/me", headers={"Authorization": "Basic YWRtaW46eA=="})
        kid = [k["id"] for k in c.json("apikey", "list", "--json") if key.startswith(k["prefix"])]
        c.run("apikey", "revoke", str(kid[0]))
        api.error(401, "GET", "/me", "invalid_api_key", key=key)
        c.run("apikey", "revoke", "9999", status=2)
        # the admin lists users and keys through the API, as the CLI does
        expect(api.ok("GET", "/users", key=keys["admin"]) == c.json("user", "list", "--json"),
               "GET /users is user list --json")
        expect(api.ok("GET", "/apikeys", key=keys["admin"]) ==
               c.json("apikey", "list", "--json"), "GET /apikeys is apikey list --json")
        added = api.ok("POST", "/users", key=keys["admin"],
                       body={"name": "vic", "role": "viewer", "password": PASSWORD})
        expect(added["role"] == "viewer", added)
        api.error(409, "POST", "/users", "exists", "name", key=keys["admin"],
                  body={"name": "vic", "role": "viewer", "password": PASSWORD})
        api.error(400, "POST", "/users", field="role", key=keys["admin"],
                  body={"name": "w", "role": "root", "password": PASSWORD})
        api.error(400, "POST", "/users", field="password", key=keys["admin"],
                  body={"name": "w", "role": "viewer", "password": "short"})
        api.login("vic")


def test_login_throttle(c):
    c.run("init")
    users(c)
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        seen = None
        for _ in range(14):
            st, h, j = api.request("POST", "/login", {"name": "admin1", "password": "nope nope"})
            expect(st in (401, 429), f"failed login: {st} {j}")
            if st == 429:
                seen = (h, j)
                break
        expect(seen, "failed logins end up throttled (429)")
        expect(int(seen[0]["retry-after"]) >= 1 and seen[1]["error"]["code"] ==
               "too_many_attempts", f"429: {seen}")
        # another name is not affected
        api.login("viewer1")


def test_openapi_matches_router_and_roles(c):
    c.run("init")
    keys = users(c)
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        st, _, spec = api.request("GET", "/openapi.json")
        expect(st == 200 and spec["openapi"].startswith("3."), f"openapi: {st}")
        documented = spec_routes(spec)
        expect(documented == table_routes(),
               f"openapi.json vs routes.c:\n{documented}\n{table_routes()}")
        required = [("POST", "/login"), ("POST", "/logout"), ("GET", "/me"),
                    ("GET", "/profiles"), ("GET", "/profiles/{id}"), ("GET", "/subscriptions"),
                    ("GET", "/lists"), ("GET", "/accounts"), ("GET", "/templates"),
                    ("GET", "/campaigns"), ("GET", "/workflows"), ("GET", "/workflows/{id}/runs"),
                    ("POST", "/workflows/{id}/start"), ("GET", "/runs/{id}"),
                    ("GET", "/deliveries"), ("GET", "/deliveries/{id}"),
                    ("GET", "/deliveries/{id}/logs")] + \
                   [("POST", "/runs/{id}/" + a) for a in ("pause", "resume", "stop")] + \
                   [("POST", "/deliveries/{id}/" + a) for a in
                    ("prepare", "proof", "confirm", "pause", "resume", "stop")]
        for r in required:
            expect(r in documented, f"{r} is documented")
        by_path = {}
        for m, p in documented:
            by_path.setdefault(p, set()).add(m)
        # every documented route answers; other methods on its path get 405 with Allow
        for p, methods in by_path.items():
            for m in methods:
                st, _, j = api.request(m, concrete(p), key=keys["admin"])
                expect(not (st == 404 and j["error"]["code"] == "no_such_route") and st != 405,
                       f"{m} {p} is routed: {st} {j}")
            e, h = api.error(405, "DELETE", concrete(p), "method_not_allowed", key=keys["admin"])
            expect(set(h["allow"].split(", ")) == methods, f"Allow of {p}: {h.get('allow')}")
        api.error(404, "GET", "/nothing/here", "no_such_route", key=keys["admin"])
        api.error(400, "GET", "/deliveries/abc", "invalid_id", "id", key=keys["admin"])
        # authentication and roles on every route
        order = {"none": 0, "viewer": 1, "operator": 2, "admin": 3}
        for p, ops in spec["paths"].items():
            for m, op in ops.items():
                m = m.upper()
                need = op["x-crier-role"]
                if need == "none":
                    continue
                api.error(401, m, concrete(p), body={} if m == "POST" else None)
                for role in ROLES:
                    st, _, j = api.request(m, concrete(p), key=keys[role],
                                           body={} if m == "POST" else None)
                    if order[role] < order[need]:
                        expect(st == 403 and j["error"]["code"] == "forbidden",
                               f"{role} {m} {p}: {st} {j}")
                    else:
                        expect(st not in (401, 403), f"{role} {m} {p}: {st} {j}")
        for p in ("/deliveries/1/confirm", "/runs/1/stop", "/workflows/1/start"):
            api.error(403, "POST", p, "forbidden", key=keys["viewer"])
        for p in ("/users", "/templates"):
            api.error(403, "POST", p, "forbidden", key=keys["operator"], body={})
        # a viewer's session with a good CSRF token is still refused by role
        cookie, csrf, _, _ = api.login("viewer1")
        api.error(403, "POST", "/deliveries/1/confirm", "forbidden", cookie=cookie, csrf=csrf)


def seed(c):
    """Profiles, templates, accounts (cli_workflow's setup), a list, subscriptions, a
    campaign and the seed-001 workflow stored."""
    workflow_setup(c, profiles=120, subscriptions=True)
    c.run("campaign", "add", "winter-2026", "--label", "Winter", "--start", "2026-11-01")
    c.write("vip.csv", "external_id\n" + "".join(f"{p['external_id']}\n" for p in
                                                  profiles_json(c)[:7]))
    c.run("import", "list", "vip", "vip.csv", "--key", "external_id")
    c.run("account", "add", "smtp", "relay", "--url", "smtp://127.0.0.1:2525", "--tls", "none",
          "--user", "u", "--password-env", "SMTP_PW", env={"SMTP_PW": "hunter2-secret"})
    c.run("workflow", "add", os.path.join(EXAMPLES, "seed-001-cross-channel.json"))


def profiles_json(c):
    ids = c.run("query", "true", "--ids")[0].split()
    return [c.json("profiles", "show", i, "--json") for i in ids]


def test_resources_match_the_cli(c):
    seed(c)
    keys = users(c)
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        k = keys["viewer"]
        pid = int(c.run("query", "tier = 'gold'", "--ids")[0].split()[3])
        expect(api.ok("GET", f"/profiles/{pid}", key=k) ==
               c.json("profiles", "show", str(pid), "--json"), "profile")
        expect(api.ok("GET", "/subscriptions", key=k) == c.json("subscriptions", "list", "--json"),
               "subscriptions")
        expect(api.ok("GET", "/subscriptions?platform=ios&limit=5&offset=2", key=k) ==
               c.json("subscriptions", "list", "--platform", "ios", "--limit", "5", "--offset",
                      "2", "--json"), "subscriptions, filtered and paged")
        accounts = api.ok("GET", "/accounts", key=k)
        expect(accounts == c.json("account", "list", "--json"), "accounts")
        expect("hunter2" not in json.dumps(accounts), "no secret in /accounts")
        expect(api.ok("GET", "/templates", key=k) == c.json("template", "list", "--json"),
               "templates")
        camps = api.ok("GET", "/campaigns", key=k)
        expect(camps == c.json("campaign", "list", "--json"), "campaigns")
        expect(api.ok("GET", f"/campaigns/{camps[0]['id']}", key=k) ==
               c.json("campaign", "show", str(camps[0]["id"]), "--json"), "campaign")
        expect(api.ok("GET", "/workflows", key=k) == c.json("workflow", "list", "--json"),
               "workflows")
        lists = api.ok("GET", "/lists", key=k)
        expect([(l["name"], l["members"]) for l in lists] == [("vip", 7)], f"lists: {lists}")
        # the filter search, its count and its pages
        q = "tier = 'gold' and email is not null"
        want = [int(i) for i in c.run("query", q, "--ids")[0].split()]
        expect(len(want) > 7, "enough gold profiles to page through")
        page = api.ok("GET", "/profiles?" + urlencode(filter=q, limit=3), key=k)
        expect(page["count"] == len(want) == int(c.run("query", q, "--count")[0]),
               f"count {page['count']}")
        got, offset = [], 0
        while True:
            page = api.ok("GET", "/profiles?" + urlencode(filter=q, offset=offset, limit=3), key=k)
            expect(page["offset"] == offset and page["limit"] == 3 and len(page["items"]) <= 3,
                   f"page {page['offset']}")
            if not page["items"]:
                break
            got += [p["id"] for p in page["items"]]
            offset += 3
        expect(got == want, "pages concatenated are the query's ids")
        everyone = api.ok("GET", "/profiles?limit=1000", key=k)
        expect(everyone["count"] == 120 and len(everyone["items"]) == 120, "no filter: all")
        expect(everyone["items"][0] == c.json("profiles", "show", str(everyone["items"][0]["id"]),
                                              "--json"), "search items are profiles show")
        # errors
        e, _ = api.error(400, "GET", "/profiles?" + urlencode(filter="tier = 'gold' and tierz = 1"),
                         "invalid", "filter", key=k)
        expect(e["line"] == 1 and e["column"] == 19 and "column 19" in e["message"] and
               "tierz" in e["message"], f"bad filter names the place: {e}")
        e, _ = api.error(400, "GET", "/profiles?" + urlencode(filter="tier = "), "invalid",
                         "filter", key=k)
        expect(e.get("line") == 1, f"syntax error position: {e}")
        api.error(400, "GET", "/profiles?limit=0", "invalid", "limit", key=k)
        api.error(400, "GET", "/profiles?offset=-1", "invalid", "offset", key=k)
        api.error(400, "GET", "/subscriptions?platform=windows", "invalid", "platform", key=k)
        api.error(404, "GET", "/profiles/999999", "not_found", key=k)
        api.error(404, "GET", "/runs/999999", "not_found", key=k)
        api.error(404, "GET", "/workflows/999999/runs", "not_found", key=k)
        api.error(404, "GET", "/campaigns/999999", "not_found", key=k)
        api.error(404, "GET", "/deliveries/999999", "not_found", key=k)
        api.error(413, "POST", "/login", "too_large", raw=b"{" + b" " * (1 << 20) + b"}",
                  headers={"Content-Type": "application/json"})
        api.error(413, "POST", "/templates", "too_large", key=keys["admin"],
                  raw=b'{"a":"' + b"x" * (2 << 20) + b'"}',
                  headers={"Content-Type": "application/json"})
        # without a Content-Length (chunked), the limit holds as the body comes
        api.error(413, "POST", "/templates", "too_large", key=keys["admin"], chunked=True,
                  raw=iter([b'{"a":"'] + [b"x" * 65536] * 17 + [b'"}']),
                  headers={"Content-Type": "application/json"})
        # templates: added by an admin, checked by the library
        tpl = {"from": "Shop <shop@example.com>", "subject": "Hi", "text": "Hello"}
        api.ok("POST", "/templates", key=keys["admin"],
               body={"channel": "email", "name": "api-tpl", "content": tpl})
        expect(api.ok("GET", "/templates", key=k) == c.json("template", "list", "--json"),
               "templates after an add")
        api.error(409, "POST", "/templates", "exists", "name", key=keys["admin"],
                  body={"channel": "email", "name": "api-tpl", "content": tpl})
        e, _ = api.error(400, "POST", "/templates", "invalid", key=keys["admin"],
                         body={"channel": "email", "name": "bad", "replace": True,
                               "content": dict(tpl, subject="{% if %}")})
        api.error(400, "POST", "/templates", "invalid", "channel", key=keys["admin"],
                  body={"channel": "fax", "name": "x", "content": tpl})


def urlencode(**kw):
    import urllib.parse
    return urllib.parse.urlencode(kw)


def test_seed001_delivery_and_workflow(c):
    seed(c)
    keys = users(c)
    out, _ = c.run("delivery", "create", "--template", "offer", "--account", "mail", "--filter",
                   "tier = 'gold' and email is not null and phone is not null", "--json")
    d = json.loads(out)["id"]
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        op, viewer = keys["operator"], keys["viewer"]
        shown = api.ok("GET", f"/deliveries/{d}", key=viewer)
        expect(shown == c.json("delivery", "show", str(d), "--json") and
               shown["status"] == "draft", f"draft: {shown['status']}")
        api.error(409, "POST", f"/deliveries/{d}/confirm", "wrong_state", key=op)
        api.error(403, "POST", f"/deliveries/{d}/prepare", "forbidden", key=viewer)
        prepared = api.ok("POST", f"/deliveries/{d}/prepare", key=op)
        expect(prepared["status"] == "ready", f"prepared: {prepared['status']}")
        expect(prepared == c.json("delivery", "show", str(d), "--json"), "prepare answers show")
        targeted = prepared["kpis"]["targeted"]
        expect(targeted > 0 and prepared["kpis"]["sent"] == 0, f"kpis {prepared['kpis']}")
        proof = api.ok("POST", f"/deliveries/{d}/proof", key=op, body={"to": ["qa@example.com"]})
        expect(proof == {"sent": 1}, f"proof: {proof}")
        api.error(400, "POST", f"/deliveries/{d}/proof", "invalid", "to", key=op,
                  body={"to": [1]})
        api.error(403, "POST", f"/deliveries/{d}/confirm", "forbidden", key=viewer)
        confirmed = api.ok("POST", f"/deliveries/{d}/confirm", key=op)
        expect(confirmed["status"] == "sending", f"confirmed: {confirmed['status']}")
        expect(api.ok("POST", f"/deliveries/{d}/pause", key=op)["status"] == "paused", "paused")
        expect(api.ok("POST", f"/deliveries/{d}/resume", key=op)["status"] == "sending",
               "resumed")
        listed = api.ok("GET", "/deliveries", key=viewer)
        expect(listed == c.json("delivery", "list", "--json") and
               d in [x["id"] for x in listed], "deliveries")
        c.run("engine", "run", "--until-idle")
        kpis = api.ok("GET", f"/deliveries/{d}/kpis", key=viewer)
        expect(kpis["sent"] == targeted and kpis["pending"] == 0, f"sent after the engine: {kpis}")
        after = api.ok("GET", f"/deliveries/{d}", key=viewer)
        expect(after["status"] == "sent" and after == c.json("delivery", "show", str(d), "--json"),
               f"sent: {after['status']}")
        expect(api.ok("GET", "/deliveries?all=1", key=viewer) ==
               c.json("delivery", "list", "--all", "--json"), "all deliveries")
        api.error(409, "POST", f"/deliveries/{d}/stop", "wrong_state", key=op)
        # logs, paginated, as the CLI pages them
        for args in ((0, 5), (5, 5), (0, 1000)):
            expect(api.ok("GET", f"/deliveries/{d}/logs?offset={args[0]}&limit={args[1]}",
                          key=viewer) ==
                   c.json("delivery", "logs", str(d), "--offset", str(args[0]), "--limit",
                          str(args[1]), "--json"), f"logs {args}")
        expect(api.ok("GET", f"/deliveries/{d}/logs?status=sent&limit=1000", key=viewer) ==
               c.json("delivery", "logs", str(d), "--status", "sent", "--json"), "sent logs")
        api.error(400, "GET", f"/deliveries/{d}/logs?status=lost", "invalid", "status",
                  key=viewer)
        # the seed-001 workflow started and followed through the API
        wf = [w for w in api.ok("GET", "/workflows", key=viewer) if w["name"] == "gold-offer"][0]
        api.error(400, "POST", f"/workflows/{wf['id']}/start", "invalid", "variables", key=op,
                  body={"variables": [1]})
        run = api.ok("POST", f"/workflows/{wf['id']}/start", key=op)["run"]
        c.run("engine", "run", "--until-idle")
        st = api.ok("GET", f"/runs/{run}", key=viewer)
        expect(st == c.json("workflow", "status", str(run), "--json"), "run status")
        counts = {(t["from"], t["to"]): t["count"] for t in st["transitions"]}
        expect(counts[("gold.default", "offer")] == targeted, f"count on gold -> offer: {counts}")
        runs = api.ok("GET", f"/workflows/{wf['id']}/runs", key=viewer)
        expect([r["run"] for r in runs] == [run] and runs[0]["status"] == "running", runs)
        expect(api.ok("POST", f"/runs/{run}/pause", key=op)["status"] == "paused", "run paused")
        expect(api.ok("POST", f"/runs/{run}/resume", key=op)["status"] == "running", "resumed")
        expect(api.ok("POST", f"/runs/{run}/stop", key=op)["status"] == "stopped", "stopped")
        api.error(409, "POST", f"/runs/{run}/stop", "wrong_state", key=op)


if __name__ == "__main__":
    main([test_login_sessions_and_csrf, test_api_keys, test_login_throttle,
          test_openapi_matches_router_and_roles, test_resources_match_the_cli,
          test_seed001_delivery_and_workflow])
