# ruff: noqa: E501 - the cases are data, one case a few long lines
"""The evaluation set: small repositories with a history, an error log from each, and where the
error really is.

Each case writes a repository (the culprit file, a caller, a file of the same name elsewhere
to make suffix matching earn its keep, third-party code the trace passes through), commits it
a few months back, then commits changes: one that touches the culprit line (the expected
suspect) and, for most cases, a newer one elsewhere in the repository. The log is written the
way the runtime prints it, from a deployment path that differs from the repository's layout.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fakes.git_history import commit_env


@dataclass(frozen=True)
class Frame:
    path: str  # repository path
    line: int
    function: str
    code: str = "pass"


@dataclass(frozen=True)
class Case:
    name: str
    language: str
    culprit: Frame
    caller: Frame
    log: str | dict[str, Any]
    decoy: str | None = None  # another repository file with the culprit's file name
    extra_files: dict[str, str] = field(default_factory=dict)
    # The message of the commit that wrote the culprit line; None: the initial version did.
    suspect: str | None = "Change the line that fails"

    @property
    def expected_suspect(self) -> str:
        return self.suspect or "Initial version"

    @property
    def expected_file(self) -> str:
        return self.culprit.path


def _source(frames: list[Frame], comment: str, length: int = 100) -> str:
    lines = [f"{comment} line {n}" for n in range(1, length + 1)]
    for frame in frames:
        lines[frame.line - 1] = frame.code
    return "\n".join(lines) + "\n"


COMMENT = {
    "python": "#",
    "ruby": "#",
    "javascript": "//",
    "typescript": "//",
    "java": "//",
    "kotlin": "//",
    "go": "//",
    "rust": "//",
    "csharp": "//",
    "c": "//",
    "cpp": "//",
    "php": "//",
}


def _git(repo: Path, *args: str, when: datetime) -> None:
    env = commit_env("Ada Dev", "ada@example.com", when)
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def build_repository(case: Case, root: Path) -> Path:
    """The case's repository under ``root``, with its history; returns its path.

    History, oldest first: the initial version (the culprit line not yet written), the
    suspect commit that writes the culprit line, a newer commit that changes a distant line of
    the culprit file (so the newest commit to the file is not the answer), and a newer commit
    elsewhere. With ``suspect=None`` the initial version already has the failing line.
    """
    repo = root / case.name
    repo.mkdir(parents=True)
    now = datetime.now(UTC)
    comment = COMMENT[case.language]
    same_file = case.caller.path == case.culprit.path
    culprit_frames = [case.culprit, case.caller] if same_file else [case.culprit]
    final = _source(culprit_frames, comment)
    before = _source(
        [
            Frame(case.culprit.path, case.culprit.line, "", f"{comment} original line"),
            *([case.caller] if same_file else []),
        ],
        comment,
    )
    files = {
        case.culprit.path: final if case.suspect is None else before,
        "README.md": f"# {case.name}\n",
        **case.extra_files,
    }
    if not same_file:
        files[case.caller.path] = _source([case.caller], comment)
    if case.decoy:
        files[case.decoy] = _source([], comment)
    _write(repo, files)
    _git(repo, "init", "-q", "-b", "main", when=now)
    _git(repo, "add", "-A", when=now)
    _git(repo, "commit", "-q", "-m", "Initial version", when=now - timedelta(days=120))
    if case.suspect is not None:
        _write(repo, {case.culprit.path: final})
        _git(repo, "commit", "-q", "-am", case.suspect, when=now - timedelta(days=20))
        lines = final.splitlines()
        far = 3 if case.culprit.line > 20 else 98
        lines[far - 1] = f"{comment} tidied"
        _write(repo, {case.culprit.path: "\n".join(lines) + "\n"})
        _git(repo, "commit", "-q", "-am", "Tidy comments", when=now - timedelta(days=5))
    _write(repo, {"CHANGELOG.md": "- latest\n"})
    _git(repo, "add", "-A", when=now)
    _git(repo, "commit", "-q", "-m", "Update the changelog", when=now - timedelta(days=2))
    return repo


def _write(repo: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


# --- log writers, as each runtime prints ------------------------------------------------------


def python_log(frames: list[tuple[str, Frame]], error: str, lib_first: bool = True) -> str:
    lines = ["Traceback (most recent call last):"]
    if lib_first:
        lines += [
            '  File "/usr/local/lib/python3.11/site-packages/flask/app.py", line 880, '
            "in full_dispatch_request",
            "    rv = self.dispatch_request()",
        ]
    for prefix, frame in frames:  # outermost first
        lines += [f'  File "{prefix}{frame.path}", line {frame.line}, in {frame.function}']
        lines += [f"    {frame.code}"]
    lines.append(error)
    return "\n".join(lines)


def node_log(frames: list[tuple[str, Frame]], error: str) -> str:
    lines = [error]
    for prefix, frame in frames:  # innermost first
        lines.append(f"    at {frame.function} ({prefix}{frame.path}:{frame.line}:17)")
    lines += [
        "    at Layer.handle [as handle_request] "
        "(/usr/src/app/node_modules/express/lib/router/layer.js:95:5)",
        "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
    ]
    return "\n".join(lines)


def java_log(frames: list[tuple[str, str, Frame]], error: str) -> str:
    lines = [f'Exception in thread "main" {error}']
    for cls, method, frame in frames:  # innermost first
        lines.append(f"\tat {cls}.{method}({frame.path.rsplit('/', 1)[-1]}:{frame.line})")
    lines.append("\tat java.base/java.lang.Thread.run(Thread.java:833)")
    return "\n".join(lines)


def go_log(frames: list[tuple[str, Frame]], message: str) -> str:
    lines = [
        f"panic: {message}",
        "",
        "goroutine 1 [running]:",
    ]
    for prefix, frame in frames:  # innermost first
        lines += [f"{frame.function}(...)", f"\t{prefix}{frame.path}:{frame.line} +0x1d"]
    lines += ["exit status 2"]
    return "\n".join(lines)


def dotnet_log(frames: list[tuple[str, Frame]], error: str) -> str:
    lines = [f"Unhandled exception. {error}"]
    for prefix, frame in frames:
        lines.append(f"   at {frame.function}() in {prefix}{frame.path}:line {frame.line}")
    return "\n".join(lines)


def ruby_log(frames: list[tuple[str, Frame]], message: str, error_class: str) -> str:
    (prefix, first), *rest = frames
    lines = [f"{prefix}{first.path}:{first.line}:in '{first.function}': {message} ({error_class})"]
    lines += [f"\tfrom {p}{f.path}:{f.line}:in '{f.function}'" for p, f in rest]
    return "\n".join(lines)


def php_log(culprit: tuple[str, Frame], caller: tuple[str, Frame], error: str) -> str:
    (cp, cf), (pp, pf) = culprit, caller
    return "\n".join(
        [
            f"PHP Fatal error:  Uncaught {error} in {cp}{cf.path}:{cf.line}",
            "Stack trace:",
            f"#0 {pp}{pf.path}({pf.line}): {cf.function}()",
            "#1 {main}",
            f"  thrown in {cp}{cf.path} on line {cf.line}",
        ]
    )


def asan_log(frames: list[tuple[str, Frame]], kind: str) -> str:
    lines = [f"==4242==ERROR: AddressSanitizer: {kind} on address 0x602000000010"]
    for n, (prefix, frame) in enumerate(frames):
        lines.append(f"    #{n} 0x4f1a2b in {frame.function} {prefix}{frame.path}:{frame.line}:9")
    n = len(frames)
    lines.append(f"    #{n} 0x7f2c in __libc_start_main (/lib/x86_64-linux-gnu/libc.so.6+0x29d90)")
    return "\n".join(lines)


def gdb_log(frames: list[tuple[str, Frame]]) -> str:
    lines = ["Program received signal SIGSEGV, Segmentation fault."]
    for n, (prefix, frame) in enumerate(frames):
        lines.append(
            f"#{n}  0x0000555555555189 in {frame.function} (p=0x0) at {prefix}{frame.path}:{frame.line}"
        )
    return "\n".join(lines)


def rust_log(frames: list[tuple[str, Frame]], message: str) -> str:
    (_prefix, culprit), *_ = frames
    lines = [
        f"thread 'main' panicked at {culprit.path}:{culprit.line}:5:",
        message,
        "stack backtrace:",
        "   0: rust_begin_unwind",
        "             at /rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/std/src/panicking.rs:665:5",
        "   1: core::panicking::panic_fmt",
        "             at /rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/core/src/panicking.rs:74:14",
    ]
    for n, (p, frame) in enumerate(frames, start=2):
        lines += [f"   {n}: {frame.function}", f"             at {p}{frame.path}:{frame.line}:5"]
    return "\n".join(lines)


# --- the cases ---------------------------------------------------------------------------------


def _py(
    name: str, culprit: Frame, caller: Frame, error: str, prefix: str = "/app/", **kw: Any
) -> Case:
    return Case(
        name,
        "python",
        culprit,
        caller,
        python_log([(prefix, caller), (prefix, culprit)], error),
        **kw,
    )


def cases() -> list[Case]:
    out: list[Case] = []
    # Python
    out += [
        _py(
            "py-keyerror",
            Frame("shop/cart.py", 42, "total", "return prices[item.sku] * item.qty"),
            Frame("shop/views.py", 17, "checkout", "amount = total(cart)"),
            "KeyError: 'SKU-1041'",
            decoy="billing/cart.py",
        ),
        _py(
            "py-none",
            Frame("app/services/users.py", 31, "display_name", "return user.name.title()"),
            Frame("app/api/routes.py", 12, "profile", "name = display_name(uid)"),
            "AttributeError: 'NoneType' object has no attribute 'name'",
            prefix="/srv/www/",
        ),
        _py(
            "py-file",
            Frame("reports/export.py", 55, "load_template", "with open(TEMPLATE) as fh:"),
            Frame("reports/cli.py", 9, "main", "tpl = load_template()"),
            "FileNotFoundError: [Errno 2] No such file or directory: 'templates/report.html'",
            prefix="/home/runner/work/reports/reports/",
        ),
        _py(
            "py-utils-ambiguous",
            Frame("billing/utils.py", 23, "round_money", "return Decimal(v).quantize(CENT)"),
            Frame("billing/invoice.py", 40, "finalise", "total = round_money(raw)"),
            "decimal.InvalidOperation: [<class 'decimal.ConversionSyntax'>]",
            decoy="shop/utils.py",
        ),
        _py(
            "py-typeerror",
            Frame("etl/transform.py", 18, "merge", "return left + right"),
            Frame("etl/pipeline.py", 66, "run", "rows = merge(a, b)"),
            "TypeError: unsupported operand type(s) for +: 'int' and 'str'",
            prefix="/opt/etl/",
        ),
        _py(
            "py-timeout",
            Frame(
                "clients/payments.py",
                27,
                "charge",
                "resp = session.post(URL, json=body, timeout=5)",
            ),
            Frame("orders/flow.py", 51, "pay", "charge(order)"),
            "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='pay.example', port=443): Read timed out. (read timeout=5)",
            prefix="/workspace/",
        ),
        _py(
            "py-same-file",
            Frame("worker/jobs.py", 70, "parse_row", "return int(row['qty'])"),
            Frame("worker/jobs.py", 12, "import_file", "items = [parse_row(r) for r in rows]"),
            "ValueError: invalid literal for int() with base 10: 'ten'",
            prefix="/app/",
        ),
        _py(
            "py-no-history",
            Frame("cli/main.py", 8, "main", "config = load()"),
            Frame("cli/__main__.py", 3, "<module>", "main()"),
            "ModuleNotFoundError: No module named 'yaml'",
            suspect=None,
        ),
    ]
    # JavaScript / TypeScript
    out += [
        Case(
            "js-undefined",
            "javascript",
            Frame("src/cart.js", 14, "total", "return items.reduce((s, i) => s + i.price, 0)"),
            Frame("src/routes/checkout.js", 33, "handler"),
            node_log(
                [
                    ("/usr/src/app/", Frame("src/cart.js", 14, "total")),
                    ("/usr/src/app/", Frame("src/routes/checkout.js", 33, "handler")),
                ],
                "TypeError: Cannot read properties of undefined (reading 'reduce')",
            ),
            decoy="test/cart.js",
        ),
        Case(
            "ts-dist",
            "typescript",
            Frame("src/services/email.ts", 48, "send", "await transport.sendMail(msg)"),
            Frame("src/jobs/notify.ts", 21, "notify"),
            node_log(
                [
                    ("/app/", Frame("src/services/email.ts", 48, "send")),
                    ("/app/", Frame("src/jobs/notify.ts", 21, "notify")),
                ],
                "Error: connect ECONNREFUSED 10.0.3.7:587",
            ),
        ),
        Case(
            "js-dns",
            "javascript",
            Frame("lib/http/client.js", 61, "request", "const res = await fetch(url)"),
            Frame("lib/sync.js", 19, "pull"),
            node_log(
                [
                    ("/home/node/", Frame("lib/http/client.js", 61, "request")),
                    ("/home/node/", Frame("lib/sync.js", 19, "pull")),
                ],
                "Error: getaddrinfo ENOTFOUND api.internal.example",
            ),
        ),
        Case(
            "js-json",
            "javascript",
            Frame("server/config.js", 5, "loadConfig", "return JSON.parse(raw)"),
            Frame("server/index.js", 2, "start"),
            node_log(
                [
                    ("/var/task/", Frame("server/config.js", 5, "loadConfig")),
                    ("/var/task/", Frame("server/index.js", 2, "start")),
                ],
                "SyntaxError: Unexpected token } in JSON at position 112",
            ),
        ),
        Case(
            "ts-webpack",
            "typescript",
            Frame("src/components/Basket.tsx", 27, "Basket", "const first = items[0].name"),
            Frame("src/App.tsx", 12, "App"),
            node_log(
                [
                    ("webpack:///./", Frame("src/components/Basket.tsx", 27, "Basket")),
                    ("webpack:///./", Frame("src/App.tsx", 12, "App")),
                ],
                "TypeError: Cannot read properties of undefined (reading 'name')",
            ),
        ),
    ]
    # Java / Kotlin
    jp = "src/main/java/com/shop/"
    out += [
        Case(
            "java-npe",
            "java",
            Frame(jp + "cart/CartService.java", 42, "total", "return cart.getLines().size();"),
            Frame(jp + "web/CartController.java", 28, "get"),
            java_log(
                [
                    (
                        "com.shop.cart.CartService",
                        "total",
                        Frame(jp + "cart/CartService.java", 42, ""),
                    ),
                    (
                        "com.shop.web.CartController",
                        "get",
                        Frame(jp + "web/CartController.java", 28, ""),
                    ),
                ],
                'java.lang.NullPointerException: Cannot invoke "com.shop.cart.Cart.getLines()" because "cart" is null',
            ),
        ),
        Case(
            "java-index",
            "java",
            Frame(jp + "report/Totals.java", 61, "first", "return rows.get(0);"),
            Frame(jp + "report/ReportJob.java", 19, "run"),
            java_log(
                [
                    ("com.shop.report.Totals", "first", Frame(jp + "report/Totals.java", 61, "")),
                    (
                        "com.shop.report.ReportJob",
                        "run",
                        Frame(jp + "report/ReportJob.java", 19, ""),
                    ),
                ],
                "java.lang.IndexOutOfBoundsException: Index 0 out of bounds for length 0",
            ),
            decoy="src/test/java/com/shop/report/Totals.java",
        ),
        Case(
            "kotlin-cast",
            "kotlin",
            Frame("app/src/main/kotlin/com/shop/Prices.kt", 17, "parse", "val p = raw as Int"),
            Frame("app/src/main/kotlin/com/shop/Main.kt", 6, "main"),
            java_log(
                [
                    (
                        "com.shop.PricesKt",
                        "parse",
                        Frame("app/src/main/kotlin/com/shop/Prices.kt", 17, ""),
                    ),
                    (
                        "com.shop.MainKt",
                        "main",
                        Frame("app/src/main/kotlin/com/shop/Main.kt", 6, ""),
                    ),
                ],
                "java.lang.ClassCastException: class java.lang.String cannot be cast to class java.lang.Integer",
            ),
        ),
        Case(
            "java-sql",
            "java",
            Frame(jp + "db/OrderRepository.java", 88, "save", "stmt.executeUpdate();"),
            Frame(jp + "orders/OrderService.java", 35, "place"),
            java_log(
                [
                    (
                        "com.shop.db.OrderRepository",
                        "save",
                        Frame(jp + "db/OrderRepository.java", 88, ""),
                    ),
                    (
                        "com.shop.orders.OrderService",
                        "place",
                        Frame(jp + "orders/OrderService.java", 35, ""),
                    ),
                ],
                'org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique constraint "orders_pkey"',
            ),
        ),
    ]
    # Go
    out += [
        Case(
            "go-nil",
            "go",
            Frame("internal/cart/cart.go", 12, "cart.(*Cart).Total"),
            Frame("cmd/server/main.go", 40, "main.main"),
            go_log(
                [
                    (
                        "/app/",
                        Frame(
                            "internal/cart/cart.go",
                            12,
                            "github.com/acme/shop/internal/cart.(*Cart).Total",
                        ),
                    ),
                    ("/app/", Frame("cmd/server/main.go", 40, "main.main")),
                ],
                "runtime error: invalid memory address or nil pointer dereference",
            ),
        ),
        Case(
            "go-index",
            "go",
            Frame("pkg/report/rows.go", 33, "report.First"),
            Frame("pkg/report/job.go", 9, "report.Run"),
            go_log(
                [
                    (
                        "/home/runner/work/shop/shop/",
                        Frame("pkg/report/rows.go", 33, "github.com/acme/shop/pkg/report.First"),
                    ),
                    (
                        "/home/runner/work/shop/shop/",
                        Frame("pkg/report/job.go", 9, "github.com/acme/shop/pkg/report.Run"),
                    ),
                ],
                "runtime error: index out of range [0] with length 0",
            ),
        ),
        Case(
            "go-file",
            "go",
            Frame("internal/config/load.go", 21, "config.Load"),
            Frame("cmd/api/main.go", 15, "main.main"),
            go_log(
                [
                    (
                        "/src/",
                        Frame(
                            "internal/config/load.go",
                            21,
                            "github.com/acme/api/internal/config.Load",
                        ),
                    ),
                    ("/src/", Frame("cmd/api/main.go", 15, "main.main")),
                ],
                "open /etc/api/config.yaml: no such file or directory",
            ),
            decoy="tools/config/load.go",
        ),
    ]
    # Rust
    out += [
        Case(
            "rust-unwrap",
            "rust",
            Frame("src/cart.rs", 10, "shop::cart::total"),
            Frame("src/main.rs", 4, "shop::main"),
            rust_log(
                [
                    ("./", Frame("src/cart.rs", 10, "shop::cart::total")),
                    ("./", Frame("src/main.rs", 4, "shop::main")),
                ],
                "called `Option::unwrap()` on a `None` value",
            ),
        ),
        Case(
            "rust-index",
            "rust",
            Frame("crates/core/src/table.rs", 57, "core::table::first"),
            Frame("crates/core/src/lib.rs", 20, "core::run"),
            rust_log(
                [
                    ("/build/", Frame("crates/core/src/table.rs", 57, "core::table::first")),
                    ("/build/", Frame("crates/core/src/lib.rs", 20, "core::run")),
                ],
                "index out of bounds: the len is 0 but the index is 0",
            ),
        ),
    ]
    # .NET
    out += [
        Case(
            "dotnet-nre",
            "csharp",
            Frame("src/Shop/Services/CartService.cs", 42, "Shop.Services.CartService.Total"),
            Frame(
                "src/Shop/Controllers/CartController.cs", 25, "Shop.Controllers.CartController.Get"
            ),
            dotnet_log(
                [
                    (
                        "/src/",
                        Frame(
                            "src/Shop/Services/CartService.cs",
                            42,
                            "Shop.Services.CartService.Total",
                        ),
                    ),
                    (
                        "/src/",
                        Frame(
                            "src/Shop/Controllers/CartController.cs",
                            25,
                            "Shop.Controllers.CartController.Get",
                        ),
                    ),
                ],
                "System.NullReferenceException: Object reference not set to an instance of an object.",
            ),
        ),
        Case(
            "dotnet-windows",
            "csharp",
            Frame("Billing/Invoices/InvoiceWriter.cs", 77, "Billing.Invoices.InvoiceWriter.Write"),
            Frame("Billing/Program.cs", 14, "Billing.Program.Main"),
            dotnet_log(
                [
                    (
                        "C:\\agent\\_work\\1\\s\\",
                        Frame(
                            "Billing\\Invoices\\InvoiceWriter.cs",
                            77,
                            "Billing.Invoices.InvoiceWriter.Write",
                        ),
                    ),
                    (
                        "C:\\agent\\_work\\1\\s\\",
                        Frame("Billing\\Program.cs", 14, "Billing.Program.Main"),
                    ),
                ],
                "System.UnauthorizedAccessException: Access to the path 'D:\\out\\inv.pdf' is denied.",
            ),
        ),
        Case(
            "dotnet-key",
            "csharp",
            Frame("src/Api/Pricing/PriceTable.cs", 19, "Api.Pricing.PriceTable.Lookup"),
            Frame("src/Api/Pricing/PricingService.cs", 50, "Api.Pricing.PricingService.Quote"),
            dotnet_log(
                [
                    (
                        "/app/",
                        Frame("src/Api/Pricing/PriceTable.cs", 19, "Api.Pricing.PriceTable.Lookup"),
                    ),
                    (
                        "/app/",
                        Frame(
                            "src/Api/Pricing/PricingService.cs",
                            50,
                            "Api.Pricing.PricingService.Quote",
                        ),
                    ),
                ],
                "System.Collections.Generic.KeyNotFoundException: The given key 'EUR' was not present in the dictionary.",
            ),
        ),
    ]
    # C / C++
    out += [
        Case(
            "c-asan",
            "c",
            Frame("src/buffer.c", 45, "buf_append"),
            Frame("src/main.c", 12, "main"),
            asan_log(
                [
                    ("/work/", Frame("src/buffer.c", 45, "buf_append")),
                    ("/work/", Frame("src/main.c", 12, "main")),
                ],
                "heap-use-after-free",
            ),
        ),
        Case(
            "c-gdb",
            "c",
            Frame("lib/parse.c", 88, "parse_header"),
            Frame("lib/reader.c", 30, "read_all"),
            gdb_log(
                [
                    ("/home/dev/proj/", Frame("lib/parse.c", 88, "parse_header")),
                    ("/home/dev/proj/", Frame("lib/reader.c", 30, "read_all")),
                ]
            ),
        ),
        Case(
            "c-shader",
            "c",
            Frame("src/shader.c", 45, "compile_shader_from_file"),
            Frame("src/render.c", 38, "create_renderer"),
            {
                "level": "ERROR",
                "message": "Shader compilation failed",
                "error_details": {
                    "error_type": "ShaderCompilationError",
                    "error_message": "Failed to open shader file",
                },
                "stack_trace": "at compile_shader_from_file (src/shader.c:45)\nat create_renderer (src/render.c:38)",
            },
        ),
    ]
    # Ruby
    out += [
        Case(
            "ruby-nil",
            "ruby",
            Frame("app/models/order.rb", 23, "Order#total"),
            Frame("app/controllers/orders_controller.rb", 11, "OrdersController#show"),
            ruby_log(
                [
                    ("/rails/", Frame("app/models/order.rb", 23, "Order#total")),
                    (
                        "/rails/",
                        Frame("app/controllers/orders_controller.rb", 11, "OrdersController#show"),
                    ),
                ],
                "undefined method '+' for nil",
                "NoMethodError",
            ),
        ),
        Case(
            "ruby-key",
            "ruby",
            Frame("lib/importer/row.rb", 15, "Importer::Row#sku"),
            Frame("lib/importer.rb", 40, "Importer#run"),
            ruby_log(
                [
                    ("/app/", Frame("lib/importer/row.rb", 15, "Importer::Row#sku")),
                    ("/app/", Frame("lib/importer.rb", 40, "Importer#run")),
                ],
                "key not found: :sku",
                "KeyError",
            ),
        ),
    ]
    # PHP
    out += [
        Case(
            "php-type",
            "php",
            Frame("src/Cart.php", 10, "App\\Cart->total"),
            Frame("public/index.php", 5, "main"),
            php_log(
                ("/var/www/html/", Frame("src/Cart.php", 10, "App\\Cart->total")),
                ("/var/www/html/", Frame("public/index.php", 5, "main")),
                "TypeError: App\\Cart::total(): Return value must be of type int, null returned",
            ),
        ),
        Case(
            "php-file",
            "php",
            Frame("src/Config/Loader.php", 33, "App\\Config\\Loader->load"),
            Frame("bootstrap/app.php", 8, "main"),
            php_log(
                ("/srv/app/", Frame("src/Config/Loader.php", 33, "App\\Config\\Loader->load")),
                ("/srv/app/", Frame("bootstrap/app.php", 8, "main")),
                "RuntimeException: Failed to open config file: config/app.yaml",
            ),
        ),
    ]
    return out
