// Check a SMART B receipt in the browser, without trusting the server's answer:
// RFC 9162 inclusion proof with SHA-256, then the C2SP checkpoint's Ed25519 signature by a
// validator key published on the page (WebCrypto). Mirrors ledger/receipts.py.
(function () {
  "use strict";
  const enc = new TextEncoder();
  const HEX64 = /^[0-9a-f]{64}$/;

  function hexToBytes(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }
  function b64ToBytes(text) {
    const bin = atob(text);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  function equal(a, b) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }
  async function nodeHash(left, right) {
    return sha256(concat(new Uint8Array([1]), left, right));
  }

  // RFC 9162 section 2.1.3.2
  async function verifyInclusion(leaf, index, size, path, root) {
    if (index < 0 || index >= size) return false;
    let fn = index, sn = size - 1, r = leaf;
    for (const p of path) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) { while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); } }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  function parseCheckpoint(text) {
    const cut = text.indexOf("\n\n");
    if (cut < 0) throw new Error("checkpoint: no blank line before the signatures");
    const body = text.slice(0, cut + 1);
    const lines = body.split("\n");
    if (lines.length < 4) throw new Error("checkpoint: origin, size and root expected");
    const sigs = text.slice(cut + 2).split("\n").filter(Boolean).map((line) => {
      if (!line.startsWith("\u2014 ")) throw new Error("checkpoint: bad signature line");
      const rest = line.slice(2), at = rest.lastIndexOf(" ");
      const raw = b64ToBytes(rest.slice(at + 1));
      return { name: rest.slice(0, at), keyId: raw.slice(0, 4), signature: raw.slice(4) };
    });
    return { body, origin: lines[0], size: Number(lines[1]), root: b64ToBytes(lines[2]), sigs };
  }

  async function keyId(name, publicKey) {
    return (await sha256(concat(enc.encode(name + "\n"), new Uint8Array([1]), publicKey))).slice(0, 4);
  }

  async function check(receipt, trusted) {
    const checks = [];
    for (const field of ["chain", "tx_hash", "leaf_hash", "checkpoint"]) {
      if (typeof receipt[field] !== "string") throw new Error(`field ${field} missing`);
    }
    if (!HEX64.test(receipt.leaf_hash) || !Array.isArray(receipt.audit_path) ||
        !receipt.audit_path.every((h) => typeof h === "string" && HEX64.test(h))) {
      throw new Error("hashes must be lowercase hex SHA-256");
    }
    const cp = parseCheckpoint(receipt.checkpoint);
    checks.push(["tree_size", cp.size === receipt.tree_size]);
    checks.push(["origin", trusted.some((k) => k.chain === receipt.chain && k.key_name === cp.origin)]);
    const inc = await verifyInclusion(hexToBytes(receipt.leaf_hash), receipt.leaf_index,
      receipt.tree_size, receipt.audit_path.map(hexToBytes), cp.root);
    checks.push(["inclusion", inc]);
    let signed = false;
    for (const key of trusted.filter((k) => k.chain === receipt.chain)) {
      const pub = hexToBytes(key.public_key);
      const kid = await keyId(key.key_name, pub);
      for (const sig of cp.sigs) {
        if (sig.name !== key.key_name || !equal(sig.keyId, kid)) continue;
        const cryptoKey = await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
        if (await crypto.subtle.verify({ name: "Ed25519" }, cryptoKey, sig.signature, enc.encode(cp.body))) signed = true;
      }
    }
    checks.push(["signature", signed]);
    return checks;
  }

  function render(target, checks, labels, error) {
    target.replaceChildren();
    const p = document.createElement("p");
    if (error) {
      p.className = "bad"; p.setAttribute("role", "alert");
      p.textContent = labels.error + " " + error;
      target.append(p);
      return;
    }
    const holds = checks.every(([, ok]) => ok);
    p.className = holds ? "ok" : "bad";
    p.setAttribute("role", holds ? "status" : "alert");
    p.textContent = holds ? labels.holds : labels.fails;
    const ul = document.createElement("ul");
    ul.className = "checks";
    for (const [name, ok] of checks) {
      const li = document.createElement("li");
      li.className = ok ? "ok" : "bad";
      li.textContent = (ok ? "\u2714 " : "\u2718 ") + (labels[name] || name);
      ul.append(li);
    }
    target.append(p, ul);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("receipt-check-browser");
    const config = document.getElementById("receipt-browser-config");
    if (!button || !config || !window.crypto || !crypto.subtle) return;
    const { trusted, labels } = JSON.parse(config.textContent);
    button.hidden = false;
    button.addEventListener("click", async () => {
      const target = document.getElementById("result");
      const text = document.getElementById("receipt-input").value;
      try {
        render(target, await check(JSON.parse(text), trusted), labels, null);
      } catch (error) {
        render(target, [], labels, error.message);
      }
      target.dataset.checkedIn = "browser";
    });
  });
})();
