// Chunked upload of a dataset's file with a progress bar, through the data marketplace API:
//   POST versions/{id}/uploads → PUT uploads/{id}/chunks/0, 1, 2… → POST uploads/{id}/complete
// The form (data-chunked-upload) posts the whole file without JavaScript; with it, the file
// travels in small chunks, a lost connection resumes at the chunk the server expects, and the
// SHA-256 is declared up front when the browser can compute it (checked by the server).
// No inline script and no inline handler: the page's Content-Security-Policy allows 'self'.
(function () {
  "use strict";

  const HASH_LIMIT = 64 * 1024 * 1024; // hash in the browser up to 64 MiB (the file is read whole)
  const RETRIES = 3;

  function mediaTypes(form) {
    const map = {};
    for (const pair of (form.dataset.mediaTypes || "").split(";")) {
      const at = pair.indexOf("=");
      if (at > 0) map[pair.slice(0, at)] = pair.slice(at + 1);
    }
    return map;
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_match, key) => String(values[key]));
  }

  async function sha256Hex(file) {
    if (!window.crypto || !window.crypto.subtle || file.size > HASH_LIMIT) return "";
    const digest = await window.crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function uploader(form) {
    const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const apiRoot = form.dataset.apiRoot;
    const box = document.getElementById("upload-progress");
    const bar = document.getElementById("upload-bar");
    const status = document.getElementById("upload-status");
    const failure = document.getElementById("upload-error");
    const done = document.getElementById("upload-done");
    const button = form.querySelector("button[type=submit]");
    let unfinished = null; // the upload started and not completed, aborted if we give up

    async function call(method, url, body, contentType) {
      const headers = { "X-CSRFToken": csrf, Accept: "application/json" };
      if (contentType) headers["Content-Type"] = contentType;
      const response = await fetch(url, {
        method,
        headers,
        body,
        credentials: "same-origin",
      });
      let data = null;
      try {
        data = await response.json();
      } catch (_error) {
        data = null;
      }
      if (!response.ok) {
        const message = (data && data.error && data.error.message) || response.statusText;
        throw new ApiError(response.status, message);
      }
      return data;
    }

    function show(sent, total) {
      const percent = total ? Math.floor((sent * 100) / total) : 100;
      bar.value = percent;
      bar.textContent = percent + " %";
      status.textContent = format(form.dataset.msgSending, { sent, total });
    }

    async function sendChunk(upload, index, blob) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await call(
            "PUT",
            `${apiRoot}uploads/${upload.public_id}/chunks/${index}`,
            blob,
            "application/octet-stream",
          );
        } catch (error) {
          // 409: the server already has this chunk (or wants another): resume where it says.
          if (error instanceof ApiError && error.status !== 409) throw error;
          if (attempt >= RETRIES) throw error;
          status.textContent = form.dataset.msgRetry;
          const state = await call("GET", `${apiRoot}uploads/${upload.public_id}/`);
          if (state.next_chunk !== index) return state;
        }
      }
    }

    async function run(file) {
      box.hidden = false;
      failure.hidden = true;
      done.hidden = true;
      button.disabled = true;
      bar.value = 0;
      status.textContent = form.dataset.msgHashing;
      const fields = form.elements;
      const declared = fields.sha256.value.trim().toLowerCase();
      const sha256 = declared || (await sha256Hex(file));
      const fileFormat = fields.format.value;
      const mediaType =
        fields.media_type.value.trim() || mediaTypes(form)[fileFormat] || file.type ||
        "application/octet-stream";
      let upload = await call(
        "POST",
        form.dataset.startUrl,
        JSON.stringify({
          format: fileFormat,
          media_type: mediaType,
          byte_size: file.size,
          sha256,
          title: fields.title.value.trim(),
        }),
        "application/json",
      );
      unfinished = upload.public_id;
      const size = Math.max(
        1,
        Math.min(Number(form.dataset.chunkBytes) || upload.max_chunk_bytes, upload.max_chunk_bytes),
      );
      show(0, file.size);
      let index = upload.next_chunk;
      while (upload.received_bytes < file.size) {
        const start = index * size;
        const answer = await sendChunk(upload, index, file.slice(start, start + size));
        upload = answer;
        index = upload.next_chunk;
        show(upload.received_bytes, file.size);
      }
      status.textContent = form.dataset.msgChecking;
      const distribution = await call(
        "POST",
        `${apiRoot}uploads/${upload.public_id}/complete`,
      );
      unfinished = null;
      bar.value = 100;
      bar.textContent = "100 %";
      status.textContent = `${form.dataset.msgDone} ${distribution.sha256}`;
      status.dataset.sha256 = distribution.sha256;
      const link = done.querySelector("a");
      link.href = `${form.dataset.doneUrl}?uploaded=${encodeURIComponent(distribution.public_id)}#distribution-${distribution.public_id}`;
      done.hidden = false;
      form.reset();
      return distribution;
    }

    form.addEventListener("submit", (event) => {
      const file = form.elements.file.files[0];
      if (!window.fetch || !window.Blob) return; // the plain form posts the whole file
      event.preventDefault();
      if (!file) {
        failure.textContent = form.dataset.msgNofile;
        failure.hidden = false;
        box.hidden = false;
        return;
      }
      run(file)
        .catch((error) => {
          failure.textContent = `${form.dataset.msgFailed} ${error.message}`;
          failure.hidden = false;
          if (unfinished) {
            // What arrived is deleted; a new try starts afresh.
            call("DELETE", `${apiRoot}uploads/${unfinished}/`).catch(() => {});
            unfinished = null;
          }
        })
        .finally(() => {
          button.disabled = false;
        });
    });
  }

  for (const form of document.querySelectorAll("form[data-chunked-upload]")) uploader(form);
})();
