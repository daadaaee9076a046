"""api_write.py - the REST API routes that create and change things, with a real HTTP client:
workflows created, versioned and validated from a JSON body (problems as `crier workflow
validate --json` lists them), deliveries created (and an external one's file previewed),
campaigns created and closed, accounts of every kind with write-only secrets, subscriptions
activated and deactivated, opens and clicks over time (per hour, per day), users changed by an
admin and passwords changed by their owner. Every created object is compared with what the CLI
shows for it; roles are checked on each route (and on every route by api.py's OpenAPI test).
"""
import copy
import json
import os

from crier_test import expect, main
from cli_tracking import Server, free_port
from cli_workflow import EXAMPLES, sql
from api import Api, PASSWORD, seed, users


def seed001():
    with open(os.path.join(EXAMPLES, "seed-001-cross-channel.json")) as f:
        return json.load(f)


def cli_validate(c, doc, name="doc.json"):
    """`crier workflow validate FILE --json` of doc: (exit status, answer)."""
    c.write(name, json.dumps(doc))
    for status in (0, 1):
        try:
            return status, c.json("workflow", "validate", name, "--json", status=status)
        except AssertionError:
            continue
    raise AssertionError("workflow validate exited neither 0 nor 1")


# ------------------------------------------------------------------------------ workflows --

def test_workflows_create_update_validate(c):
    seed(c)
    keys = users(c)
    op, viewer = keys["operator"], keys["viewer"]
    with Server(c, free_port(), "--no-engine") as s:
        api = Api(s.port)
        doc = seed001()
        doc["name"] = "gold-offer-api"
        doc["activities"][1]["position"] = {"x": 120, "y": 40}  # the canvas keeps its places
        api.error(403, "POST", "/workflows", "forbidden", key=viewer, body=doc)
        st, _, made = api.request("POST", "/workflows", key=op, body=doc)
        expect(st == 201, f"create: {st} {made}")
        listed = {w["id"]: w for w in c.json("workflow", "list", "--json")}
        expect(made["id"] in listed and
               {k: v for k, v in made.items() if k != "definition"} == listed[made["id"]],
               f"created workflow as workflow list shows it: {made}")
        expect(made["status"] == "draft" and made["version"] == 1, made)
        expect(made["definition"]["activities"] == doc["activities"] and
               made["definition"]["name"] == "gold-offer-api", "the definition kept as sent")
        expect(api.ok("GET", f"/workflows/{made['id']}", key=viewer) == made, "GET answers it")
        # the same definition stored by the CLI (from a file) is the same document
        c.write("same.json", json.dumps(dict(doc, name="gold-offer-cli")))
        cli_id = int(c.run("workflow", "add", "same.json")[0])
        cli_def = api.ok("GET", f"/workflows/{cli_id}", key=viewer)["definition"]
        expect(dict(cli_def, name="gold-offer-api") == made["definition"],
               "API and CLI store the same definition")
        # a taken name: 409, pointing at PUT
        e, _ = api.error(409, "POST", "/workflows", "exists", "name", key=op, body=doc)
        expect(f"/workflows/{made['id']}" in e["message"], e)
        # a new version by PUT (the name may be left out); unchanged: same version
        doc2 = copy.deepcopy(doc)
        del doc2["name"]
        doc2["activities"][1]["filter"] = "tier = 'gold' and email is not null"
        api.error(403, "PUT", f"/workflows/{made['id']}", "forbidden", key=viewer, body=doc2)
        v2 = api.ok("PUT", f"/workflows/{made['id']}", key=op, body=doc2)
        expect(v2["version"] == 2 and v2["id"] == made["id"] and
               v2["definition"]["activities"][1]["filter"] == doc2["activities"][1]["filter"],
               f"new version: {v2}")
        same = api.ok("PUT", f"/workflows/{made['id']}", key=op, body=doc2)
        expect(same["version"] == 2, "an unchanged definition is not a new version")
        api.error(400, "PUT", f"/workflows/{made['id']}", "invalid", "name", key=op,
                  body=dict(doc2, name="gold-offer"))
        api.error(404, "PUT", "/workflows/999999", "not_found", key=op, body=doc2)
        api.error(404, "GET", "/workflows/999999", "not_found", key=viewer)
        # runs started after the update use version 2
        run = api.ok("POST", f"/workflows/{made['id']}/start", key=op)["run"]
        runs = api.ok("GET", f"/workflows/{made['id']}/runs", key=viewer)
        expect([(r["run"], r["version"]) for r in runs] == [(run, 2)], runs)
        expect(api.ok("GET", f"/workflows/{made['id']}", key=viewer)["status"] == "started",
               "started")
        # invalid definitions: every problem, as workflow validate --json lists them
        bad = copy.deepcopy(doc)
        bad["name"] = "broken"
        bad["activities"][1]["filter"] = "tier = 'gold' and tierz = 1"
        bad["activities"][2]["template"] = "no-such-template"
        status, want = cli_validate(c, bad)
        expect(status == 1 and not want["valid"] and len(want["errors"]) >= 2, want)
        e, _ = api.error(400, "POST", "/workflows", "invalid_workflow", key=op, body=bad)
        expect(e["problems"] == want["errors"], f"problems {e['problems']} != {want['errors']}")
        expect(api.ok("POST", "/workflows/validate", key=viewer, body=bad) == want,
               "validate answers the CLI's JSON")
        expect("broken" not in [w["name"] for w in c.json("workflow", "list", "--json")],
               "nothing stored")
        # a document that is not well formed: its problems (the store is not asked)
        bad2 = dict(copy.deepcopy(doc), name="broken2")
        bad2["transitions"].append({"from": "nowhere", "to": "gold"})
        bad2["activities"][3]["duration"] = "soon"
        _, want2 = cli_validate(c, bad2, "doc2.json")
        expect(len(want2["errors"]) >= 1, want2)
        e, _ = api.error(400, "PUT", f"/workflows/{made['id']}", "invalid_workflow", key=op,
                         body=dict(bad2, name="gold-offer-api"))
        expect(e["problems"] == want2["errors"], e)
        good = api.ok("POST", "/workflows/validate", key=viewer, body=doc)
        expect(good == {"valid": True, "errors": []} == cli_validate(c, doc)[1], good)
        # not a definition at all
        api.error(400, "POST", "/workflows/validate", "invalid_json", key=viewer,
                  raw=b'{"name": "x", ', headers={"Content-Type": "application/json"})
        e, _ = api.error(400, "POST", "/workflows", "invalid_workflow", key=op,
                         body={"name": "x"})
        expect(e["problems"], e)
        # /workflows/validate is its own resource, not a workflow id
        e, h = api.error(405, "GET", "/workflows/validate", "method_not_allowed", key=viewer)
        expect(h["allow"] == "POST", h)


if __name__ == "__main__":
    main([test_workflows_create_update_validate])
