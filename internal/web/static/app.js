// Gatehouse Todos: the page script. Plain JavaScript, no framework, no
// build step. It calls the Todo API through the gateway, cross-origin,
// with the gateway's session cookie (credentials: "include"); the cookie
// is HttpOnly, so this script never sees it. Every piece of data goes into
// the page as text (textContent, text nodes), never as HTML.
"use strict";

(() => {
  const body = document.body;
  const apiURL = (body.dataset.apiUrl || "").replace(/\/+$/, "");
  const errorRegion = document.getElementById("error");
  const statusRegion = document.getElementById("status");

  // ---- DOM helpers ------------------------------------------------------

  // el builds an element. Strings among the children become text nodes.
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    node.append(...children);
    return node;
  }

  // announce tells screen-reader users what just happened, politely.
  let announceTimer;
  function announce(text) {
    if (!statusRegion) return;
    statusRegion.textContent = "";
    clearTimeout(announceTimer);
    // Cleared first and set a moment later, so the same text twice is
    // announced twice.
    announceTimer = setTimeout(() => { statusRegion.textContent = text; }, 60);
  }

  // showError puts a message in the alert region (role="alert"), with an
  // optional action button and the request id for the server's log.
  function showError(message, { action, requestId } = {}) {
    if (!errorRegion) return;
    const text = el("p", {}, message);
    if (requestId) text.append(el("span", { className: "ref" }, "Reference: " + requestId));
    const buttons = el("div", { className: "alert-actions" });
    if (action) {
      buttons.append(el("button", { type: "button", className: "small", onclick: action.run }, action.label));
    }
    buttons.append(el("button", {
      type: "button", className: "quiet small", "aria-label": "Dismiss message",
      onclick: () => clearError(),
    }, "Dismiss"));
    errorRegion.replaceChildren(text, buttons);
  }

  function clearError() {
    if (errorRegion) errorRegion.replaceChildren();
  }

  // ---- The API ----------------------------------------------------------

  class APIError extends Error {
    constructor(status, problem, message) {
      super(message || (problem && problem.detail) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
    }
  }

  // signedOut is thrown after a 401 has sent the browser to /login; the
  // callers have nothing left to show.
  const signedOut = new APIError(401, null, "signed out");

  // api calls the Todo API through the gateway. Only Content-Type (JSON
  // bodies) and If-Match are added as headers: the gateway's CORS
  // preflight allows those.
  async function api(path, { method = "GET", json, ifMatch } = {}) {
    const headers = {};
    let payload;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(json);
    }
    if (ifMatch) headers["If-Match"] = ifMatch;
    let res;
    try {
      res = await fetch(apiURL + path, { method, headers, body: payload, credentials: "include" });
    } catch {
      throw new APIError(0, null,
        `The API at ${apiURL} could not be reached. Check your connection; if it persists, ` +
        "the gateway may be down or may not allow requests from this page's address (CORS).");
    }
    if (res.status === 401) {
      // No session, or one the gateway no longer accepts: sign in again.
      window.location.assign("/login?expired=1");
      throw signedOut;
    }
    if (!res.ok) {
      let problem = null;
      if ((res.headers.get("Content-Type") || "").includes("json")) {
        try { problem = await res.json(); } catch { /* not JSON after all */ }
      }
      throw new APIError(res.status, problem);
    }
    const data = res.status === 204 ? null : await res.json();
    return { data, etag: res.headers.get("ETag"), link: res.headers.get("Link") };
  }

  // describe turns a failed call into a sentence for the user.
  function describe(err, what) {
    const p = err.problem || {};
    switch (err.status) {
      case 0: return err.message;
      case 403: return `The gateway refused to ${what}: your account is not allowed to use this app.`;
      case 404: return `Could not ${what}: it no longer exists (perhaps it was deleted elsewhere).`;
      case 412: return `Could not ${what}: someone else changed it after you opened it. ` +
        "Reload to see the latest version, then make your change again.";
      case 413: return `Could not ${what}: the text is too long.`;
      case 422:
        if (Array.isArray(p.errors) && p.errors.length) {
          return `Could not ${what}: ` + p.errors.map((e) => `${e.field} ${e.message}`).join("; ") + ".";
        }
        return `Could not ${what}: ${p.detail || "the input is not valid."}`;
      case 429: return `Could not ${what}: too many requests. Wait a moment and try again.`;
      case 502: case 503: case 504:
        return `Could not ${what}: the todo service is not answering right now. Try again in a moment.`;
      default:
        return `Could not ${what}: ${p.detail || `the server answered HTTP ${err.status}.`}`;
    }
  }

  function report(err, what, action) {
    if (err === signedOut) return;
    if (!(err instanceof APIError)) {
      console.error(err);
      showError(`Could not ${what}: something went wrong in this page. Reload and try again.`);
      return;
    }
    showError(describe(err, what), { action, requestId: err.problem && err.problem.request_id });
  }

  // ---- Times ------------------------------------------------------------

  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function ago(date) {
    const secs = (date.getTime() - Date.now()) / 1000;
    const abs = Math.abs(secs);
    if (abs < 45) return "just now";
    if (abs < 3600) return relative.format(Math.round(secs / 60), "minute");
    if (abs < 86400) return relative.format(Math.round(secs / 3600), "hour");
    if (abs < 7 * 86400) return relative.format(Math.round(secs / 86400), "day");
    return "on " + absolute.format(date);
  }

  function timeElement(iso) {
    const date = new Date(iso);
    const t = el("time", { datetime: iso, title: absolute.format(date) }, "Added " + ago(date));
    t.dataset.iso = iso;
    return t;
  }

  function refreshTimes() {
    for (const t of document.querySelectorAll("time[data-iso]")) {
      t.textContent = "Added " + ago(new Date(t.dataset.iso));
    }
  }

  // ---- The todo list ----------------------------------------------------

  function todosPage() {
    const addForm = document.getElementById("add");
    const addTitle = document.getElementById("add-title");
    const addDescription = document.getElementById("add-description");
    const addButton = document.getElementById("add-button");
    const list = document.getElementById("todos");
    const loading = document.getElementById("loading");
    const empty = document.getElementById("empty");
    const summary = document.getElementById("summary");
    const more = document.getElementById("more");

    // known holds each todo shown, by id, with the ETag of that version
    // when a response has told us (the list carries none).
    const known = new Map();
    let loaded = false;
    let nextPage = null;

    function remember(todo, etag) {
      const old = known.get(todo.id);
      const keep = !etag && old && old.todo.updated_at === todo.updated_at ? old.etag : null;
      known.set(todo.id, { todo, etag: etag || keep });
    }

    function updateSummary() {
      const n = known.size;
      const done = [...known.values()].filter((k) => k.todo.completed).length;
      list.hidden = n === 0;
      empty.hidden = !loaded || n > 0;
      summary.textContent = !loaded || n === 0 ? "" :
        `${n} ${n === 1 ? "todo" : "todos"}, ${done} done` + (nextPage ? " (more below)" : "");
    }

    function itemOf(id) {
      return list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
    }

    // renderView fills li with a todo's normal view.
    function renderView(li, todo) {
      const toggleID = "done-" + todo.id;
      const toggle = el("input", {
        type: "checkbox", id: toggleID, className: "toggle",
        "aria-describedby": "meta-" + todo.id,
      });
      toggle.checked = todo.completed;
      toggle.addEventListener("change", () => setCompleted(li, toggle));

      const text = el("div", { className: "text" },
        el("label", { className: "title", for: toggleID }, todo.title));
      if (todo.description) text.append(el("p", { className: "desc" }, todo.description));
      text.append(el("p", { className: "meta", id: "meta-" + todo.id },
        timeElement(todo.created_at), todo.completed ? " · done" : ""));

      const actions = el("div", { className: "actions" },
        el("button", {
          type: "button", className: "quiet small edit", "aria-label": `Edit “${todo.title}”`,
          onclick: () => startEdit(li),
        }, "Edit"),
        el("button", {
          type: "button", className: "danger small delete", "aria-label": `Delete “${todo.title}”`,
          onclick: () => remove(li),
        }, "Delete"));

      li.classList.toggle("done", todo.completed);
      li.replaceChildren(el("div", { className: "view" }, toggle, text, actions));
    }

    function newItem(todo) {
      const li = el("li", { className: "todo", dataset: { id: todo.id } });
      renderView(li, todo);
      return li;
    }

    // load shows the first page of todos (newest first), or appends the
    // next one.
    async function load({ append = false } = {}) {
      list.setAttribute("aria-busy", "true");
      more.disabled = true;
      try {
        const { data, link } = await api(append && nextPage ? nextPage : "/?limit=100");
        if (!append) {
          known.clear();
          list.replaceChildren();
        }
        for (const todo of data) {
          if (known.has(todo.id)) continue;
          remember(todo);
          list.append(newItem(todo));
        }
        nextPage = nextFrom(link);
        loaded = true;
        clearError();
      } catch (err) {
        report(err, append ? "load more todos" : "load your todos",
          { label: "Try again", run: () => load({ append }) });
      } finally {
        loading.hidden = true;
        list.removeAttribute("aria-busy");
        more.disabled = false;
        more.hidden = !nextPage;
        updateSummary();
      }
    }

    // nextFrom reads the rel="next" link of a page (RFC 8288). Its target
    // is relative to the API's root.
    function nextFrom(link) {
      const m = /<([^>]*)>\s*;\s*rel="?next"?/.exec(link || "");
      if (!m) return null;
      const u = new URL(m[1], "http://api.invalid/");
      return u.pathname + u.search;
    }

    const reload = { label: "Reload", run: () => load() };

    // add creates a todo from the form; Enter in either field submits.
    let adding = false;
    addForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (adding) return;
      const title = addTitle.value.trim();
      const description = addDescription.value.trim();
      if (!title) {
        addTitle.setAttribute("aria-invalid", "true");
        showError("Type a title for the todo first.");
        addTitle.focus();
        return;
      }
      addTitle.removeAttribute("aria-invalid");
      adding = true;
      addButton.disabled = true;
      addForm.setAttribute("aria-busy", "true");
      try {
        const draft = description ? { title, description } : { title };
        const { data, etag } = await api("/", { method: "POST", json: draft });
        clearError();
        remember(data, etag);
        const li = newItem(data);
        li.classList.add("flash");
        list.prepend(li);
        addForm.reset();
        updateSummary();
        announce(`Added “${data.title}”.`);
      } catch (err) {
        report(err, "add the todo");
      } finally {
        adding = false;
        addButton.disabled = false;
        addForm.removeAttribute("aria-busy");
        // Focus stays in the title field, ready for the next todo.
        addTitle.focus();
      }
    });
    addTitle.addEventListener("input", () => addTitle.removeAttribute("aria-invalid"));

    // setCompleted completes or withdraws a todo from its checkbox.
    async function setCompleted(li, toggle) {
      const id = li.dataset.id;
      const entry = known.get(id);
      const want = toggle.checked;
      if (li.getAttribute("aria-busy") === "true") {
        toggle.checked = !want;
        return;
      }
      li.setAttribute("aria-busy", "true");
      try {
        const { data, etag } = await api(`/${encodeURIComponent(id)}/${want ? "complete" : "incomplete"}`,
          { method: "POST", ifMatch: entry.etag });
        clearError();
        remember(data, etag);
        const focused = document.activeElement === toggle;
        renderView(li, data);
        if (focused) li.querySelector(".toggle").focus();
        updateSummary();
        announce(want ? `“${data.title}” marked as done.` : `“${data.title}” marked as not done.`);
      } catch (err) {
        toggle.checked = !want;
        report(err, want ? `mark “${entry.todo.title}” as done` : `mark “${entry.todo.title}” as not done`, reload);
      } finally {
        li.removeAttribute("aria-busy");
      }
    }

    // startEdit turns an item into a form. It first fetches the todo: the
    // list carries no ETags, and the form must start from the version the
    // save's If-Match names, so a change made elsewhere while the user
    // types is detected (412) instead of silently overwritten.
    async function startEdit(li) {
      if (li.getAttribute("aria-busy") === "true") return;
      const id = li.dataset.id;
      let entry = known.get(id);
      const shown = entry.todo;
      if (!entry.etag) {
        li.setAttribute("aria-busy", "true");
        try {
          const { data, etag } = await api("/" + encodeURIComponent(id));
          remember(data, etag);
          entry = known.get(id);
        } catch (err) {
          report(err, `edit “${shown.title}”`, reload);
          if (err.status === 404) dropItem(li);
          return;
        } finally {
          li.removeAttribute("aria-busy");
        }
      }
      const todo = entry.todo;
      if (todo.updated_at !== shown.updated_at) {
        renderView(li, todo);
        announce("This todo was changed elsewhere; the form shows the latest version.");
      }

      const titleID = "edit-title-" + id;
      const descID = "edit-description-" + id;
      const title = el("input", { type: "text", id: titleID, maxlength: 200, required: true, "aria-required": "true" });
      title.value = todo.title;
      const description = el("textarea", { id: descID, maxlength: 2000, rows: 3 });
      description.value = todo.description;
      const save = el("button", { type: "submit", className: "small" }, "Save");
      const cancel = el("button", { type: "button", className: "quiet small" }, "Cancel");
      const form = el("form", { className: "edit-form", "aria-label": `Edit “${todo.title}”`, novalidate: true },
        el("div", { className: "field" }, el("label", { for: titleID }, "Title"), title),
        el("div", { className: "field" },
          el("label", { for: descID }, "Description ", el("span", { className: "optional" }, "(optional)")),
          description),
        el("div", { className: "actions" }, save, cancel));

      const close = (latest) => {
        renderView(li, latest || known.get(id).todo);
        li.querySelector(".edit").focus();
      };
      cancel.addEventListener("click", () => close());
      form.addEventListener("keydown", (event) => {
        if (event.key === "Escape") {
          event.preventDefault();
          close();
        }
      });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const draft = { title: title.value.trim(), description: description.value.trim() };
        if (!draft.title) {
          title.setAttribute("aria-invalid", "true");
          showError("A todo needs a title.");
          title.focus();
          return;
        }
        if (draft.title === todo.title && draft.description === todo.description) {
          close();
          return;
        }
        save.disabled = true;
        form.setAttribute("aria-busy", "true");
        try {
          const { data, etag } = await api("/" + encodeURIComponent(id),
            { method: "PUT", json: draft, ifMatch: known.get(id).etag });
          clearError();
          remember(data, etag);
          close(data);
          updateSummary();
          announce(`Saved “${data.title}”.`);
        } catch (err) {
          // The form stays open with the user's text in it.
          report(err, `save “${todo.title}”`, reload);
          save.disabled = false;
          form.removeAttribute("aria-busy");
        }
      });

      li.replaceChildren(form);
      title.focus();
      title.select();
    }

    // dropItem removes an item and moves focus to its neighbour (or to the
    // add field when the list is now empty), so keyboard users are not
    // left on nothing.
    function dropItem(li) {
      const neighbour = li.nextElementSibling || li.previousElementSibling;
      const hadFocus = li.contains(document.activeElement) || document.activeElement === document.body;
      known.delete(li.dataset.id);
      li.remove();
      updateSummary();
      if (hadFocus) {
        const target = neighbour ? neighbour.querySelector(".toggle, input") : addTitle;
        (target || addTitle).focus();
      }
    }

    async function remove(li) {
      if (li.getAttribute("aria-busy") === "true") return;
      const id = li.dataset.id;
      const { title } = known.get(id).todo;
      li.setAttribute("aria-busy", "true");
      li.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      try {
        await api("/" + encodeURIComponent(id), { method: "DELETE" });
        clearError();
        dropItem(li);
        announce(`Deleted “${title}”.`);
      } catch (err) {
        if (err.status === 404) {
          dropItem(li);
          announce(`“${title}” was already deleted.`);
          return;
        }
        li.removeAttribute("aria-busy");
        li.querySelectorAll("button").forEach((b) => { b.disabled = false; });
        li.querySelector(".delete").focus();
        report(err, `delete “${title}”`);
      }
    }

    more.addEventListener("click", () => load({ append: true }));
    setInterval(refreshTimes, 60 * 1000);
    load();
  }

  // ---- Headers ----------------------------------------------------------

  async function headersPage() {
    const pre = document.getElementById("headers");
    try {
      const { data } = await api("/headers");
      // Pretty-printed, one element per line (see .code .line); the text
      // of the whole block is still exactly the JSON.
      const lines = JSON.stringify(data, null, 2).split("\n");
      pre.replaceChildren(...lines.map((line, i) =>
        el("span", { className: "line" }, i < lines.length - 1 ? line + "\n" : line)));
    } catch (err) {
      pre.textContent = "—";
      report(err, "load the headers", { label: "Try again", run: () => { clearError(); headersPage(); } });
    } finally {
      pre.removeAttribute("aria-busy");
    }
  }

  switch (body.dataset.page) {
    case "todos": todosPage(); break;
    case "headers": headersPage(); break;
  }
})();
