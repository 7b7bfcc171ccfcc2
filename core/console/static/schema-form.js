// A form generated from a JSON Schema, and back: the admin console's plugin settings.
//
//   const form = buildForm(schema, value, { idPrefix: "gp-hello" });  // an element
//   const { value, errors } = readForm(form);                          // errors: [{path, message}]
//   showErrors(form, [{ path: "limits.max_fps", message: "too big" }]); // at the input; returns the unplaced
//
// Pure functions of their arguments and the DOM they build (no fetch, no globals),
// so they can be tested on their own. What is rendered:
//   string            <input> (type email/url for those formats; maxlength, minlength, pattern)
//   integer, number   <input type=number> (min/max, step 1 for integers)
//   boolean           a checkbox
//   enum              a <select> (any JSON values)
//   array of strings  a <textarea>, one per line (any further constraint on the strings is the
//                     server's to check); of an enum of strings: a group of checkboxes
//   object            a <fieldset> of its properties (the root object is the form itself)
//   ["T", "null"]     as T, where empty means null
//   anything else     a JSON <textarea> for that field (oneOf, $ref, arrays of objects, …)
// `title` (or the property name) labels a field, `description` is its help text.
// Keys of the value that the schema does not list are kept as they are.
// An empty optional field is left out of the value (so the plugin's default applies),
// or is null where the schema allows null. Client checks are limited to what cannot be
// sent at all (JSON that does not parse, a number that is not one); the server's
// validation is the authority and its errors are shown with showErrors().
//
// Every text (titles, descriptions, values) is set as text, never as HTML.

const FORMS = new WeakMap();

function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function humanize(key) {
  const text = String(key).replace(/[_-]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").trim();
  return text ? text[0].toUpperCase() + text.slice(1) : String(key);
}

/** Which control renders ``schema``: string, number, boolean, enum, object, lines, choices or json. */
export function kindOf(schema) {
  if (!isObject(schema)) return "json";
  if (["oneOf", "anyOf", "allOf", "$ref", "not", "if", "const", "patternProperties"].some((k) => k in schema)) return "json";
  if (Array.isArray(schema.enum) && schema.enum.length) return "enum";
  let { type } = schema;
  if (Array.isArray(type)) {
    const others = type.filter((t) => t !== "null");
    if (others.length !== 1) return "json";
    [type] = others;
  }
  if (type === "string") return "string";
  if (type === "integer" || type === "number") return "number";
  if (type === "boolean") return "boolean";
  if (type === "object") return isObject(schema.properties) && Object.keys(schema.properties).length ? "object" : "json";
  if (type === "array") {
    const items = schema.items;
    if (!isObject(items) || Array.isArray(items.type) || schema.prefixItems) return "json";
    if (items.type === "string" && Array.isArray(items.enum) && items.enum.every((v) => typeof v === "string")) return "choices";
    // Strings one per line, whatever else constrains them (anyOf of patterns…): the server checks those.
    if (items.type === "string" && !items.enum && !("const" in items) && !items.$ref) return "lines";
    return "json";
  }
  return "json";
}

function nullable(schema) {
  return Array.isArray(schema?.type) && schema.type.includes("null");
}

function baseType(schema) {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
}

/** The constraint a person should know before typing ("Between 1 and 60."). */
function constraintHint(schema, kind) {
  const parts = [];
  if (kind === "number") {
    const min = schema.minimum ?? schema.exclusiveMinimum;
    const max = schema.maximum ?? schema.exclusiveMaximum;
    if (min !== undefined && max !== undefined) parts.push(`Between ${min} and ${max}.`);
    else if (min !== undefined) parts.push(`At least ${min}.`);
    else if (max !== undefined) parts.push(`At most ${max}.`);
    if (baseType(schema) === "integer" && !parts.length) parts.push("A whole number.");
  }
  if (kind === "string" && schema.maxLength !== undefined) parts.push(`At most ${schema.maxLength} characters.`);
  if (kind === "lines") parts.push("One per line.");
  if (kind === "json") parts.push("Written as JSON.");
  return parts.join(" ");
}

function safeId(text) {
  return String(text).replace(/[^A-Za-z0-9_-]+/g, "_");
}

/** Build the form for ``schema`` holding ``value``; returns its root element. */
export function buildForm(schema, value, { idPrefix = "gp-sf" } = {}) {
  const ctx = { idPrefix: safeId(idPrefix), counter: 0, targets: new Map(), errors: [] };
  const root = h("div", { class: "gp-schema-form" });
  const node = buildNode(schema, value, [], ctx, { root: true, key: "", required: true });
  root.append(node.element);
  FORMS.set(root, { ctx, read: node.read, schema });
  return root;
}

function field(ctx, path, schema, key, control, kind, { inline = false } = {}) {
  const id = control.id;
  const helpText = [schema.description, constraintHint(schema, kind)].filter(Boolean).join(" ");
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const error = h("small", { class: "gp-field-error", id: errorId, role: "alert", hidden: true });
  const help = helpText ? h("small", { id: helpId, class: "gp-field-help" }, helpText) : null;
  control.setAttribute("aria-describedby", [help ? helpId : null, errorId].filter(Boolean).join(" "));
  const label = schema.title || (key === "" ? "Settings" : humanize(key));
  const wrapper = inline
    ? h("div", { class: "gp-field gp-check", "data-path": path.join(".") },
      h("label", { for: id }, control, " ", h("span", {}, label)), help, error)
    : h("div", { class: "gp-field", "data-path": path.join(".") },
      h("label", { for: id }, h("span", {}, label)), control, help, error);
  ctx.targets.set(path.join("."), { control, error, wrapper });
  return wrapper;
}

function nextId(ctx, path) {
  ctx.counter += 1;
  return `${ctx.idPrefix}-${safeId(path.join("-") || "root")}-${ctx.counter}`;
}

function buildNode(schema, value, path, ctx, { root = false, key = "", required = false } = {}) {
  const kind = kindOf(schema);
  const id = nextId(ctx, path);
  const allowsNull = nullable(schema);
  const empty = () => (allowsNull ? { present: true, value: null } : required ? null : { present: false });

  if (kind === "object") {
    const properties = schema.properties;
    const needed = new Set(Array.isArray(schema.required) ? schema.required : []);
    const current = isObject(value) ? value : {};
    const children = Object.entries(properties).map(([name, sub]) => [
      name, buildNode(sub, current[name], [...path, name], ctx, { key: name, required: needed.has(name) })]);
    const elements = children.map(([, child]) => child.element);
    let element;
    if (root) {
      element = h("div", { class: "gp-schema-fields", "data-path": "" }, ...elements);
      ctx.targets.set("", { control: null, error: null, wrapper: element });
    } else {
      const error = h("small", { class: "gp-field-error", id: `${id}-error`, role: "alert", hidden: true });
      element = h("fieldset", { class: "gp-fieldset", id, "data-path": path.join(".") },
        h("legend", {}, schema.title || humanize(key)),
        schema.description ? h("p", { class: "gp-field-help" }, schema.description) : null, error, ...elements);
      ctx.targets.set(path.join("."), { control: null, error, wrapper: element });
    }
    const read = () => {
      const out = {};
      for (const [name, extra] of Object.entries(current)) if (!(name in properties)) out[name] = extra;
      let anything = false;
      for (const [name, child] of children) {
        const result = child.read();
        if (result && result.present) { out[name] = result.value; anything = true; }
      }
      // An optional object that was absent stays absent unless one of its fields was filled.
      if (!root && !required && !isObject(value) && !anything) return { present: false };
      return { present: true, value: out };
    };
    return { element, read };
  }

  if (kind === "boolean") {
    const control = h("input", { type: "checkbox", id, name: path.join(".") });
    control.checked = value === undefined ? Boolean(schema.default) : Boolean(value);
    return { element: field(ctx, path, schema, key, control, kind, { inline: true }),
      read: () => ({ present: true, value: control.checked }) };
  }

  if (kind === "enum") {
    const options = schema.enum;
    const control = h("select", { id, name: path.join(".") });
    const blank = !required || (value === undefined && !("default" in schema));
    if (blank) control.append(h("option", { value: "" }, "—"));
    options.forEach((option, index) => control.append(
      h("option", { value: String(index) }, typeof option === "string" ? option : JSON.stringify(option))));
    const shown = value === undefined && "default" in schema ? schema.default : value;
    const chosen = options.findIndex((option) => same(option, shown));
    control.value = chosen >= 0 ? String(chosen) : "";
    return { element: field(ctx, path, schema, key, control, kind),
      read: () => (control.value === "" ? (required ? { present: true, value: null } : { present: false })
        : { present: true, value: options[Number(control.value)] }) };
  }

  if (kind === "string") {
    const type = { email: "email", uri: "url", url: "url" }[schema.format] || "text";
    const control = h("input", {
      type, id, name: path.join("."), maxlength: schema.maxLength, minlength: schema.minLength,
      pattern: schema.pattern, placeholder: schema.default ?? schema.examples?.[0], autocomplete: "off", spellcheck: "false",
    });
    control.value = typeof value === "string" ? value : "";
    return { element: field(ctx, path, schema, key, control, kind),
      read: () => (control.value === "" ? (empty() || { present: true, value: "" }) : { present: true, value: control.value }) };
  }

  if (kind === "number") {
    const integer = baseType(schema) === "integer";
    const control = h("input", {
      type: "number", id, name: path.join("."), step: integer ? (schema.multipleOf || 1) : (schema.multipleOf || "any"),
      min: schema.minimum ?? schema.exclusiveMinimum, max: schema.maximum ?? schema.exclusiveMaximum,
      placeholder: schema.default, inputmode: integer ? "numeric" : "decimal",
    });
    control.value = typeof value === "number" ? String(value) : "";
    return {
      element: field(ctx, path, schema, key, control, kind),
      read: () => {
        if (control.validity.badInput) { ctx.errors.push({ path: path.join("."), message: "Enter a number." }); return { present: false }; }
        if (control.value === "") return empty() || { present: false };
        const number = Number(control.value);
        if (integer && !Number.isInteger(number)) {
          ctx.errors.push({ path: path.join("."), message: "Enter a whole number." });
          return { present: false };
        }
        return { present: true, value: number };
      },
    };
  }

  if (kind === "lines") {
    const control = h("textarea", { id, name: path.join("."), rows: 4, spellcheck: "false" });
    control.value = Array.isArray(value) ? value.join("\n") : "";
    return {
      element: field(ctx, path, schema, key, control, kind),
      read: () => {
        const lines = control.value.split("\n").map((line) => line.trim()).filter(Boolean);
        if (!lines.length && !required && !Array.isArray(value)) return { present: false };
        return { present: true, value: lines };
      },
    };
  }

  if (kind === "choices") {
    const chosen = new Set(Array.isArray(value) ? value : []);
    const boxes = schema.items.enum.map((option, index) => {
      const box = h("input", { type: "checkbox", id: `${id}-${index}`, value: option });
      box.checked = chosen.has(option);
      return box;
    });
    const error = h("small", { class: "gp-field-error", id: `${id}-error`, role: "alert", hidden: true });
    const element = h("fieldset", { class: "gp-fieldset gp-choices", id, "data-path": path.join(".") },
      h("legend", {}, schema.title || humanize(key)),
      schema.description ? h("p", { class: "gp-field-help" }, schema.description) : null,
      ...boxes.map((box) => h("label", { for: box.id, class: "gp-check" }, box, " ", box.value)), error);
    ctx.targets.set(path.join("."), { control: boxes[0] || null, error, wrapper: element });
    return {
      element,
      read: () => {
        const values = boxes.filter((box) => box.checked).map((box) => box.value);
        if (!values.length && !required && !Array.isArray(value)) return { present: false };
        return { present: true, value: values };
      },
    };
  }

  // Anything else: JSON, checked for syntax here and for meaning by the server.
  const control = h("textarea", { id, name: path.join("."), rows: 5, class: "gp-mono", spellcheck: "false" });
  control.value = value === undefined ? "" : JSON.stringify(value, null, 2);
  return {
    element: field(ctx, path, schema, key, control, "json"),
    read: () => {
      const text = control.value.trim();
      if (!text) return required ? { present: true, value: null } : { present: false };
      try {
        return { present: true, value: JSON.parse(text) };
      } catch (error) {
        ctx.errors.push({ path: path.join("."), message: `Not valid JSON: ${error.message}` });
        return { present: false };
      }
    },
  };
}

/** The value the form holds, and the errors that keep it from being sent ([] when none). */
export function readForm(root) {
  const form = FORMS.get(root);
  if (!form) throw new Error("readForm: not a form built by buildForm()");
  form.ctx.errors = [];
  const result = form.read();
  return { value: result.present ? result.value : undefined, errors: [...form.ctx.errors] };
}

/** "settings.limits.max_fps" (a server's `field`) → "limits.max_fps"; null if not under ``prefix``. */
export function pathOfField(field, prefix = "settings") {
  if (field === null || field === undefined) return null;
  if (!prefix) return String(field);
  if (field === prefix) return "";
  return String(field).startsWith(`${prefix}.`) ? String(field).slice(prefix.length + 1) : null;
}

export function clearErrors(root) {
  const form = FORMS.get(root);
  if (!form) return;
  for (const { control, error } of form.ctx.targets.values()) {
    if (error) { error.textContent = ""; error.hidden = true; }
    if (control) control.removeAttribute("aria-invalid");
  }
}

/** Show each error at the input of its path (or of its nearest ancestor that has one:
 *  "tags.2" is shown at the "tags" textarea). Returns the errors that have no place
 *  but the form as a whole (the caller shows those above it). Focuses the first. */
export function showErrors(root, errors) {
  const form = FORMS.get(root);
  const unplaced = [];
  let first = null;
  for (const { path, message } of errors) {
    let parts = path ? String(path).split(".") : [];
    let target = null;
    while (parts.length) {
      const candidate = form?.ctx.targets.get(parts.join("."));
      if (candidate?.error) { target = candidate; break; }
      parts = parts.slice(0, -1);
    }
    if (!target) { unplaced.push({ path, message }); continue; }
    target.error.textContent = target.error.textContent ? `${target.error.textContent} ${message}` : message;
    target.error.hidden = false;
    if (target.control) target.control.setAttribute("aria-invalid", "true");
    first = first || target.control || target.wrapper;
  }
  if (first && typeof first.focus === "function") first.focus();
  return unplaced;
}
