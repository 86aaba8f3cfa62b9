// One wrapper around Tauri's invoke: always resolves to {ok, value} or
// {ok: false, code, message}, so screens never catch exceptions themselves.

export async function call(command, args) {
  try {
    const value = await window.__TAURI__.core.invoke(command, args || {});
    return { ok: true, value };
  } catch (err) {
    if (err && typeof err === "object" && "code" in err) {
      return { ok: false, code: err.code, message: err.message };
    }
    return { ok: false, code: "unknown", message: String(err) };
  }
}
