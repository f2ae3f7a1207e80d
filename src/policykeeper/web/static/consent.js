/* policykeeper consent script (served as /consent.js). No dependencies.
 * Reads the pack's cookie purposes and this device's choices from the API, asks with a banner and a preferences
 * dialog, and runs <script type="text/plain" data-purpose="..."> and <iframe data-purpose="..." data-src="...">
 * only once their purpose is allowed. Honours Global Privacy Control. See docs/consent-script.md. */
(() => {
  "use strict";
  const me = document.currentScript;
  const api = (me && me.dataset.api) || new URL(me.src).origin;
  const zh = ((me && me.dataset.lang) || document.documentElement.lang || navigator.language || "en")
    .toLowerCase().startsWith("zh");
  const T = zh ? {
    region: "Cookie 同意", intro: "我们使用 Cookie 和类似技术。必要的 Cookie 始终开启；其他用途只在您同意后使用。",
    accept: "全部接受", reject: "全部拒绝", prefs: "设置偏好", title: "隐私偏好",
    prefsIntro: "选择允许哪些用途。您可以随时通过页面上的“隐私选择”更改或撤回。", save: "保存选择", close: "关闭",
    always: "始终开启（必要）", gpcOff: "因全球隐私控制（GPC）信号而关闭",
    gpcSeen: "已检测到您浏览器的全球隐私控制（GPC）信号：广告和与第三方共享保持关闭。",
    choices: "隐私选择", withdraw: "撤回同意", policy: "隐私政策", saved: "已保存您的选择。",
    withdrawn: "已撤回同意。已运行的内容在下次加载页面时停止。", failed: "无法保存您的选择，请稍后再试。",
    uses: "使用：", third: "第三方", first: "第一方", session: "会话", persistent: "持久",
  } : {
    region: "Cookie consent", intro: "We use cookies and similar technologies. Essential ones are always on; " +
      "the others are used only if you agree.",
    accept: "Accept all", reject: "Reject all", prefs: "Preferences", title: "Privacy preferences",
    prefsIntro: "Choose which purposes to allow. You can change or withdraw this at any time from “Privacy choices”.",
    save: "Save choices", close: "Close", always: "Always on (essential)",
    gpcOff: "Off because of your Global Privacy Control signal",
    gpcSeen: "Your browser's Global Privacy Control signal was seen: advertising and sharing with third parties stay off.",
    choices: "Privacy choices", withdraw: "Withdraw consent", policy: "Privacy policy", saved: "Your choices were saved.",
    withdrawn: "Consent withdrawn. What already ran stops on the next page load.",
    failed: "Your choices could not be saved; please try again later.",
    uses: "Uses: ", third: "third party", first: "first party", session: "session", persistent: "persistent",
  };
  const NAME = "pk_consent";
  const gpc = navigator.globalPrivacyControl === true;
  let cfg = null;
  let token = (document.cookie.match(/(?:^|;\s*)pk_consent=([^;]+)/) || [])[1] || null;
  let state = {};
  let root = null;
  let opener = null;

  const h = (tag, attrs = {}, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === false || v == null) continue;
      if (k === "on") el.addEventListener("click", v); else el.setAttribute(k, v === true ? "" : v);
    }
    el.append(...kids.filter((k) => k != null));
    return el;
  };

  async function call(path, body) {
    const headers = token ? { "X-Consent-Device": decodeURIComponent(token) } : {};
    if (body) headers["Content-Type"] = "application/json";
    const r = await fetch(`${api}/v1/consent-script/${path}`, {
      method: body ? "POST" : "GET", headers, body: body && JSON.stringify(body), credentials: "omit", mode: "cors",
    });
    if (!r.ok) throw new Error(`policykeeper consent: ${r.status}`);
    return r.json();
  }

  const optional = () => cfg.purposes.filter((p) => !p.essential);
  const gpcOn = () => cfg.gpc_honoured && (gpc || cfg.gpc_seen);
  const forced = (p) => gpcOn() && p.gpc;
  const allowed = (id) => {
    if (!cfg || !cfg.cookies) return false;
    const p = cfg.purposes.find((q) => q.id === id);
    return !!p && (p.essential || (state[p.id] === "given" && !forced(p)));
  };

  function activate() {
    for (const el of document.querySelectorAll('script[type="text/plain"][data-purpose]')) {
      if (!allowed(el.dataset.purpose)) continue;
      const s = document.createElement("script");
      for (const a of el.attributes) if (a.name !== "type") s.setAttribute(a.name, a.value);
      if (el.dataset.type) s.type = el.dataset.type;
      if (!el.src) s.text = el.text;
      el.replaceWith(s);
    }
    for (const f of document.querySelectorAll("iframe[data-purpose][data-src]")) {
      if (allowed(f.dataset.purpose)) { if (f.getAttribute("src") !== f.dataset.src) f.src = f.dataset.src; }
      else if (f.hasAttribute("src")) f.removeAttribute("src");
    }
  }

  function announce(text) {
    const live = document.getElementById("pk-live");
    if (live) { live.textContent = ""; setTimeout(() => { live.textContent = text; }, 50); }
  }

  async function save(choices, method) {
    try {
      const r = await call("choices", { device: token && decodeURIComponent(token), choices, method, gpc });
      token = encodeURIComponent(r.device);
      document.cookie = `${NAME}=${token}; Max-Age=31536000; Path=/; SameSite=Lax` +
        (location.protocol === "https:" ? "; Secure" : "");
      state = r.choices;
      activate();
      return true;
    } catch (e) {
      announce(T.failed);
      return false;
    }
  }

  const all = (on) => Object.fromEntries(optional().filter((p) => !forced(p)).map((p) => [p.id, on]));
  const given = () => optional().some((p) => state[p.id] === "given" && !forced(p));

  async function decide(choices, method, words) {
    if (await save(choices, method)) { closeDialog(); show("link"); announce(words); }
  }

  const gpcNote = () => (gpcOn() ? h("p", { class: "pk-gpc", "data-pk-gpc": true }, T.gpcSeen) : null);
  const buttons = () => [
    h("button", { type: "button", on: () => decide(all(true), "banner", T.saved) }, T.accept),
    h("button", { type: "button", on: () => decide(all(false), "banner", T.saved) }, T.reject),
  ];

  function show(which) {
    root.querySelector(".pk-bar")?.remove();
    if (which === "banner") {
      root.prepend(h("div", { class: "pk-bar pk-banner", role: "region", "aria-label": T.region },
        h("p", {}, T.intro, " ", cfg.policy_url ? h("a", { href: cfg.policy_url }, T.policy) : null),
        gpcNote(), ...buttons(),
        h("button", { type: "button", on: (e) => openDialog(e.currentTarget) }, T.prefs)));
    } else {
      root.prepend(h("div", { class: "pk-bar pk-link", role: "region", "aria-label": T.choices },
        h("button", { type: "button", on: (e) => openDialog(e.currentTarget) }, T.choices),
        given() ? h("button", { type: "button", on: () => decide(all(false), "withdraw_link", T.withdrawn) },
          T.withdraw) : null));
    }
  }

  function openDialog(from) {
    closeDialog();
    opener = from || document.activeElement;
    const rows = cfg.purposes.map((p) => {
      const id = `pk-p-${p.id}`;
      const note = p.essential ? T.always : forced(p) ? T.gpcOff : p.description;
      return h("li", {},
        h("input", { type: "checkbox", id, name: p.id, checked: p.essential || allowed(p.id),
          disabled: p.essential || forced(p), "aria-describedby": note ? `${id}-d` : null }),
        h("label", { for: id }, p.name), note ? h("span", { id: `${id}-d`, class: "pk-note" }, note) : null,
        p.trackers.length ? h("span", { class: "pk-note" }, T.uses + p.trackers.map((t) =>
          `${t.name} (${T[t.party === "third" ? "third" : "first"]}, ${T[t.lifetime]})`).join(", ")) : null);
    });
    const pick = () => Object.fromEntries(optional().filter((p) => !forced(p))
      .map((p) => [p.id, dialog.querySelector(`#pk-p-${CSS.escape(p.id)}`).checked]));
    const dialog = h("div", { class: "pk-dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "pk-h",
      "aria-describedby": "pk-d" },
      h("h2", { id: "pk-h" }, T.title), h("p", { id: "pk-d" }, T.prefsIntro), gpcNote(),
      h("ul", {}, ...rows),
      h("button", { type: "button", on: () => decide(pick(), "preferences", T.saved) }, T.save), ...buttons(),
      h("button", { type: "button", class: "pk-close", "aria-label": T.close, on: closeDialog }, "×"));
    const back = h("div", { class: "pk-back" }, dialog);
    back.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.preventDefault(); closeDialog(); return; }
      if (e.key !== "Tab") return;
      const f = [...dialog.querySelectorAll("input:not([disabled]), button, a[href]")];
      const first = f[0];
      const last = f[f.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    });
    root.append(back);
    (dialog.querySelector("input:not([disabled])") || dialog.querySelector("button")).focus();
  }

  function closeDialog() {
    const back = root && root.querySelector(".pk-back");
    if (!back) return;
    back.remove();
    if (opener && opener.isConnected) opener.focus();
    else root.querySelector(".pk-bar button")?.focus();
    opener = null;
  }

  const css = `.pk-bar{position:fixed;left:0;right:0;bottom:0;z-index:2147483000;background:#fff;color:#111;
border-top:2px solid #333;padding:.75em 1em;font:15px/1.4 system-ui,sans-serif}.pk-link{right:auto;border:2px solid #333;
margin:.5em;padding:.25em}.pk-bar p{margin:0 0 .5em}.pk-root button{font:inherit;margin:.2em;padding:.4em .9em;
border:2px solid #333;border-radius:4px;background:#fff;color:#111;cursor:pointer}.pk-root button:focus-visible,
.pk-root input:focus-visible,.pk-root a:focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}
.pk-back{position:fixed;inset:0;z-index:2147483001;background:rgba(0,0,0,.5);display:flex;align-items:center;
justify-content:center}.pk-dialog{position:relative;background:#fff;color:#111;max-width:34em;width:92%;max-height:90vh;
overflow:auto;padding:1em 1.25em;border-radius:6px;font:15px/1.4 system-ui,sans-serif}.pk-dialog ul{list-style:none;
padding:0}.pk-dialog li{margin:.5em 0}.pk-note{display:block;margin-left:1.6em;color:#444;font-size:.9em}
.pk-close{position:absolute;top:.3em;right:.3em}.pk-gpc{font-weight:600}.pk-sr{position:absolute;width:1px;
height:1px;overflow:hidden;clip:rect(0 0 0 0)}`;

  function mount() {
    root = h("div", { class: "pk-root", lang: zh ? "zh-CN" : "en" },
      h("style", {}, css), h("div", { id: "pk-live", class: "pk-sr", role: "status", "aria-live": "polite" }));
    document.body.prepend(root);
    document.addEventListener("click", (e) => {
      const a = e.target.closest && e.target.closest("[data-pk-preferences]");
      if (a && cfg && cfg.cookies) { e.preventDefault(); openDialog(a); }
    });
  }

  async function start() {
    try {
      cfg = await call("config");
    } catch (e) {
      if (!token) return; // nothing tagged runs without an answer
      token = null; // a device token the service no longer accepts: forget it and ask again
      document.cookie = `${NAME}=; Max-Age=0; Path=/`;
      try { cfg = await call("config"); } catch (e2) { return; }
    }
    window.policykeeper = { choices: () => ({ ...state }), gpc: gpcOn(), preferences: () => openDialog() };
    if (!cfg.cookies) return; // a pack without cookies: no cookie, no banner, no tagged script
    state = cfg.choices;
    mount();
    if (gpcOn() && optional().some((p) => p.gpc && !["refused", "withdrawn"].includes(state[p.id]))) {
      await save({}, "gpc");
    }
    activate();
    new MutationObserver(activate).observe(document.documentElement, { childList: true, subtree: true });
    show(optional().some((p) => !(p.id in state)) ? "banner" : "link");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
