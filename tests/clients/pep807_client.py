#!/usr/bin/env python3
"""A PEP 807 uploading client, written for mintcheck's tests of `mintcheck client`.

It uploads every file in dist/ to MINTCHECK_UPLOAD_URL the way the PEP's chapter says a
client does: discovery for the upload URL's path, the same-host and trustworthy-origin checks,
the audience, an identity token from GitHub Actions' token endpoint, a mint (asking for
single-use-token where the index offers it), a fresh mint per upload under single-use, and the
refusal's problem details or PyPI errors shown to the user.

MINTCHECK_CLIENT_FLAW breaks one behaviour, so the tests can show each client scenario
catches the bug it is meant for:
  wrong-key             the discovery key is quote_plus of the whole URL, not its path
  any-host              endpoints on another host are used anyway
  http-ok               URLs over plain http on a non-loopback host are used anyway
  mint-after-404        after discovery's 404, the token goes to a guessed endpoint
  guess-audience        assumes PyPI's audience instead of asking the discovered endpoint
  unadvertised-feature  asks for single-use-token whether or not it is advertised
  reuse-single-use      one single-use credential for every upload
  hide-errors           a refused mint says only "mint failed"
  crash-on-problem      reads PyPI's `errors` from every refusal (a KeyError on problem details)
"""

import base64
import glob
import ipaddress
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

FLAW = os.environ.get("MINTCHECK_CLIENT_FLAW", "")
PEP_MEDIA_TYPE = "application/vnd.pypi.pytp.v1+json"


def call(url, body=None, headers=None):
    """The status and the body of one request; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def trustworthy(url):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def identity_token(audience):
    url = os.environ["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=" + urllib.parse.quote(audience)
    headers = {"Authorization": "bearer " + os.environ["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]}
    status, body = call(url, headers=headers)
    if status != 200:
        sys.exit(f"no identity token from GitHub Actions: HTTP {status}")
    return json.loads(body)["value"]


def refusal_text(status, body):
    if FLAW == "hide-errors":
        return "mint failed"
    answer = json.loads(body or b"{}")
    if FLAW == "crash-on-problem":
        return "; ".join(error["description"] for error in answer["errors"])
    if "errors" in answer:
        return "; ".join(str(error.get("description")) for error in answer["errors"])
    return f"{answer.get('title', 'refused')}: {answer.get('detail', '')}"


def mint(endpoint, audience, features):
    payload = {"token": identity_token(audience)}
    if features:
        payload["features"] = features
    headers = {"Content-Type": "application/json", "Accept": PEP_MEDIA_TYPE}
    status, body = call(endpoint, json.dumps(payload).encode(), headers)
    if status != 200:
        sys.exit(f"trusted publishing refused (HTTP {status}): {refusal_text(status, body)}")
    return json.loads(body)["token"]


def upload(upload_url, credential, path):
    boundary = "pep807-client-boundary"
    name = os.path.basename(path)
    fields = [(":action", "file_upload"), ("protocol_version", "1"), ("name", "widgetry")]
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields
    ]
    with open(path, "rb") as file:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode() + file.read() + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    auth = base64.b64encode(f"__token__:{credential}".encode()).decode()
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Authorization": "Basic " + auth,
    }
    status, _ = call(upload_url, b"".join(parts), headers)
    if status != 200:
        sys.exit(f"uploading {name}: HTTP {status}")
    print(f"uploaded {name}")


def main():
    upload_url = os.environ["MINTCHECK_UPLOAD_URL"]
    if not trustworthy(upload_url) and FLAW != "http-ok":
        sys.exit(f"refusing {upload_url}: not a trustworthy origin")
    parts = urllib.parse.urlsplit(upload_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    key_of = upload_url if FLAW == "wrong-key" else parts.path
    discovery = f"{origin}/.well-known/pytp?discover={urllib.parse.quote_plus(key_of)}"
    status, body = call(discovery, headers={"Accept": PEP_MEDIA_TYPE})
    if status == 404 and FLAW == "mint-after-404":
        document = {
            "audience-endpoint": origin + "/pep807/audience",
            "token-mint-endpoint": origin + "/pep807/mint-token",
        }
    elif status == 404:
        sys.exit(f"{upload_url} does not support trusted publishing (discovery: 404)")
    elif status != 200:
        sys.exit(f"discovery failed: HTTP {status}")
    else:
        document = json.loads(body)
    endpoints = [document["audience-endpoint"], document["token-mint-endpoint"]]
    for endpoint in endpoints:
        other_host = urllib.parse.urlsplit(endpoint).hostname != parts.hostname
        if other_host and FLAW != "any-host":
            sys.exit(f"refusing {endpoint}: not on the upload URL's host {parts.hostname}")
        if not trustworthy(endpoint) and FLAW != "http-ok":
            sys.exit(f"refusing {endpoint}: not a trustworthy origin")
    offered = document.get("features", [])
    defaults = document.get("default-features", ["multi-use-token"])
    wanted = ["single-use-token"] if "single-use-token" in offered else []
    if FLAW == "unadvertised-feature":
        wanted = ["single-use-token"]
    single_use = "single-use-token" in (wanted or defaults)
    status, body = call(endpoints[0], headers={"Accept": PEP_MEDIA_TYPE})
    audience = "pypi" if FLAW == "guess-audience" else json.loads(body)["audience"]
    credential = None
    for path in sorted(glob.glob("dist/*")):
        fresh = credential is None or (single_use and FLAW != "reuse-single-use")
        if fresh:
            credential = mint(endpoints[1], audience, wanted)
        upload(upload_url, credential, path)


if __name__ == "__main__":
    main()
