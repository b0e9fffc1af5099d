# ruff: noqa: E501 - traces are quoted as runtimes print them
"""Stack traces as each runtime prints them: frames, in-app marking, the culprit, the chain."""

from __future__ import annotations

import pytest

from app.analysis.classify import classify
from app.analysis.logs import parse_log
from app.analysis.stacktrace import extract_frames


def culprit_of(text: str) -> tuple[str | None, int | None, str | None]:
    culprit = parse_log(text).culprit
    assert culprit is not None
    return culprit.file, culprit.line, culprit.function


def test_python_chained_exceptions() -> None:
    text = """Traceback (most recent call last):
  File "/app/shop/config.py", line 12, in load
    with open(path) as fh:
         ^^^^^^^^^^
FileNotFoundError: [Errno 2] No such file or directory: 'settings.toml'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/gunicorn/workers/sync.py", line 135, in handle
    self.handle_request(listener, req, client, addr)
  File "/app/shop/main.py", line 30, in create_app
    config = load("settings.toml")
  File "/app/shop/config.py", line 14, in load
    raise ConfigError("cannot read settings") from exc
shop.config.ConfigError: cannot read settings"""
    parsed = parse_log(text)
    assert parsed.language == "python"
    assert [e.type for e in parsed.exceptions] == ["FileNotFoundError", "shop.config.ConfigError"]
    assert parsed.error_type == "shop.config.ConfigError"  # what surfaced
    assert culprit_of(text) == ("/app/shop/config.py", 12, "load")  # where it began
    assert [f.in_app for f in parsed.frames] == [True, False, True, True]
    assert classify(parsed).category == "missing file"


def test_python_during_handling() -> None:
    text = """Traceback (most recent call last):
  File "/srv/api/views.py", line 8, in get
    return cache[key]
KeyError: 'user:42'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/srv/api/views.py", line 10, in get
    return db.fetch(key)
AttributeError: 'NoneType' object has no attribute 'fetch'"""
    assert culprit_of(text) == ("/srv/api/views.py", 8, "get")
    assert parse_log(text).error_type == "AttributeError"


def test_java_caused_by_and_more() -> None:
    text = """Exception in thread "main" java.lang.RuntimeException: order failed
\tat com.acme.shop.OrderService.place(OrderService.java:57)
\tat com.acme.shop.Main.main(Main.java:12)
Caused by: java.sql.SQLException: deadlock detected
\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2733)
\tat com.acme.shop.OrderRepository.save(OrderRepository.java:88)
\tat com.acme.shop.OrderService.place(OrderService.java:55)
\t... 1 more"""
    parsed = parse_log(text)
    assert parsed.error_type == "java.lang.RuntimeException"
    assert [e.type for e in parsed.exceptions] == [
        "java.lang.RuntimeException",
        "java.sql.SQLException",
    ]
    # The root cause (last "Caused by"), innermost application frame.
    assert culprit_of(text) == ("com/acme/shop/OrderRepository.java", 88,
                                "com.acme.shop.OrderRepository.save")  # fmt: skip
    assert not parsed.frames[2].in_app  # the JDBC driver
    assert classify(parsed).category == "database error"


def test_java_module_prefixed_frames_and_kotlin() -> None:
    frames = extract_frames(
        "java.lang.IllegalStateException: closed\n"
        "\tat java.base/java.util.Objects.requireNonNull(Objects.java:233)\n"
        "\tat app//com.acme.Invoices.close(Invoices.kt:41)\n"
        "\tat java.base/java.lang.Thread.run(Thread.java:1583)"
    )
    assert [(f.file, f.line, f.in_app) for f in frames] == [
        ("java/util/Objects.java", 233, False),
        ("com/acme/Invoices.kt", 41, True),
        ("java/lang/Thread.java", 1583, False),
    ]
    assert frames[1].language == "kotlin"


def test_javascript_v8_frames() -> None:
    text = """TypeError: Cannot read properties of undefined (reading 'map')
    at renderList (/app/src/components/List.js:23:19)
    at async Promise.all (index 0)
    at Object.handler (/app/src/routes/items.js:9:5)
    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)
    at /app/src/server.js:40:3
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)"""
    parsed = parse_log(text)
    frames = [(f.file, f.line, f.column, f.in_app) for f in parsed.frames]
    assert frames == [
        ("/app/src/components/List.js", 23, 19, True),
        ("/app/src/routes/items.js", 9, 5, True),
        ("/app/node_modules/express/lib/router/layer.js", 95, 5, False),
        ("/app/src/server.js", 40, 3, True),
        ("node:internal/process/task_queues", 95, 5, False),
    ]
    assert culprit_of(text)[2] == "renderList"
    assert classify(parsed).category == "null dereference"


def test_typescript_and_firefox_frames() -> None:
    ts = extract_frames(
        "Error: boom\n    at Cart.total (webpack:///./src/cart.ts:14:11)\n"
        "    at new Checkout (webpack:///./src/checkout.tsx:5:3)"
    )
    assert [(f.file, f.line, f.language) for f in ts] == [
        ("webpack:///./src/cart.ts", 14, "typescript"),
        ("webpack:///./src/checkout.tsx", 5, "typescript"),
    ]
    firefox = extract_frames(
        "total@https://shop.example.com/static/js/cart.js:14:11\n"
        "@https://shop.example.com/static/js/main.js:2:1"
    )
    assert [(f.function, f.line) for f in firefox] == [("total", 14), (None, 2)]


def test_go_panic() -> None:
    text = """panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4976a3]

goroutine 18 [running]:
github.com/acme/shop/internal/cart.(*Cart).Total(0x0)
\t/home/runner/work/shop/shop/internal/cart/cart.go:27 +0x23
github.com/acme/shop/internal/api.(*Server).checkout(0xc000118000, {0x6c0b20, 0xc0001a0000}, 0xc000192000)
\t/home/runner/work/shop/shop/internal/api/server.go:88 +0x6d
net/http.HandlerFunc.ServeHTTP(0xc000010048, {0x6c0b20, 0xc0001a0000}, 0xc000192000)
\t/usr/local/go/src/net/http/server.go:2166 +0x29
created by net/http.(*Server).Serve in goroutine 1
\t/usr/local/go/src/net/http/server.go:3285 +0x4b2
exit status 2"""
    parsed = parse_log(text)
    assert parsed.language == "go"
    assert parsed.error_type == "panic"
    assert culprit_of(text) == (
        "/home/runner/work/shop/shop/internal/cart/cart.go",
        27,
        "github.com/acme/shop/internal/cart.(*Cart).Total",
    )
    assert [f.in_app for f in parsed.frames] == [True, True, False, False]
    assert classify(parsed).category == "null dereference"


def test_rust_panic_new_and_old_formats_and_a_backtrace() -> None:
    new = """thread 'main' panicked at src/cart.rs:10:5:
called `Option::unwrap()` on a `None` value
stack backtrace:
   0: rust_begin_unwind
             at /rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/std/src/panicking.rs:665:5
   1: core::panicking::panic
             at /rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/core/src/panicking.rs:148:5
   2: shop::cart::total
             at ./src/cart.rs:10:5
   3: shop::main
             at ./src/main.rs:4:5
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace."""
    parsed = parse_log(new)
    assert parsed.language == "rust"
    assert parsed.error_message == "called `Option::unwrap()` on a `None` value"
    assert culprit_of(new)[:2] == ("src/cart.rs", 10)
    functions = {f.function: f.in_app for f in parsed.frames if f.function}
    assert functions["shop::cart::total"] is True
    assert functions["rust_begin_unwind"] is False
    assert classify(parsed).category == "null dereference"
    old = "thread 'main' panicked at 'index out of bounds: the len is 0 but the index is 3', src/table.rs:57:9"
    parsed_old = parse_log(old)
    assert parsed_old.error_message == "index out of bounds: the len is 0 but the index is 3"
    assert culprit_of(old)[:2] == ("src/table.rs", 57)


def test_dotnet_inner_exception() -> None:
    text = """Unhandled exception. System.InvalidOperationException: Checkout failed
 ---> System.IO.FileNotFoundException: Could not find file '/app/rates.json'.
   at System.IO.FileSystem.OpenHandle(String fullPath)
   at Shop.Rates.Load(String path) in /src/Shop/Rates.cs:line 21
   --- End of inner exception stack trace ---
   at Shop.Checkout.Run() in /src/Shop/Checkout.cs:line 44
   at Shop.Program.Main(String[] args) in /src/Shop/Program.cs:line 9"""
    parsed = parse_log(text)
    assert parsed.error_type == "System.InvalidOperationException"
    assert culprit_of(text) == ("/src/Shop/Rates.cs", 21, "Shop.Rates.Load")
    assert parsed.frames[0].in_app is False
    assert classify(parsed).category == "missing file"


def test_c_gdb_asan_and_at_forms() -> None:
    gdb = """Program received signal SIGSEGV, Segmentation fault.
#0  0x00007ffff7e4a2b5 in __strlen_avx2 () from /lib/x86_64-linux-gnu/libc.so.6
#1  0x0000555555555189 in parse_header (buf=0x0) at src/parse.c:88
#2  0x00005555555551d2 in main (argc=1, argv=0x7fffffffe0b8) at src/main.c:12"""
    assert culprit_of(gdb) == ("src/parse.c", 88, "parse_header")
    asan = """==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc 0x4f1a2b bp 0x7ffd sp 0x7ffd
READ of size 4 at 0x602000000010 thread T0
    #0 0x4f1a2b in buf_append /work/src/buffer.c:45:12
    #1 0x4f1c8e in main /work/src/main.c:12:3
    #2 0x7f2c4a029d8f in __libc_start_call_main (/lib/x86_64-linux-gnu/libc.so.6+0x29d8f)"""
    parsed = parse_log(asan)
    assert parsed.error_type == "AddressSanitizer: heap-use-after-free"
    assert culprit_of(asan) == ("/work/src/buffer.c", 45, "buf_append")
    assert parsed.frames[-1].in_app is False
    at_form = extract_frames("at compile_shader (src/shader.c:45)\nat main (src/main.c:12)")
    assert [(f.file, f.line, f.language) for f in at_form] == [
        ("src/shader.c", 45, "c"),
        ("src/main.c", 12, "c"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "/app/lib/shop/cart.rb:23:in `total': undefined method `+' for nil:NilClass (NoMethodError)\n"
        "\tfrom /usr/local/bundle/gems/rack-3.0.8/lib/rack/builder.rb:279:in `call'\n"
        "\tfrom /app/app.rb:5:in `<main>'",
        "/app/lib/shop/cart.rb:23:in 'Shop::Cart#total': undefined method '+' for nil (NoMethodError)\n"
        "\tfrom /app/app.rb:5:in '<main>'",
    ],
    ids=["ruby-classic", "ruby-3.4"],
)
def test_ruby(text: str) -> None:
    parsed = parse_log(text)
    assert parsed.error_type == "NoMethodError"
    assert culprit_of(text)[:2] == ("/app/lib/shop/cart.rb", 23)
    assert all(not f.in_app for f in parsed.frames if "/gems/" in (f.file or ""))
    assert classify(parsed).category == "null dereference"


def test_php_uncaught_with_stack_trace() -> None:
    text = """PHP Fatal error:  Uncaught TypeError: App\\Cart::total(): Return value must be of type int, null returned in /var/www/html/src/Cart.php:31
Stack trace:
#0 /var/www/html/vendor/slim/slim/Slim/Handlers/Strategies/RequestResponse.php(38): App\\Cart->total()
#1 /var/www/html/public/index.php(17): App\\Controller->show()
#2 {main}
  thrown in /var/www/html/src/Cart.php on line 31"""
    parsed = parse_log(text)
    assert parsed.error_type == "TypeError"
    assert culprit_of(text)[:2] == ("/var/www/html/src/Cart.php", 31)
    assert [f.in_app for f in parsed.frames] == [True, False, True]
