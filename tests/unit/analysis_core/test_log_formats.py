"""Log formats, each sample written the way the producing system documents or prints it."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

from app.analysis.classify import classify
from app.analysis.logs import parse_log

DATA = Path(__file__).resolve().parents[2] / "data" / "logs"


def test_the_original_log_dawg_sample() -> None:
    request = json.loads((DATA / "malloc-craft-error.json").read_text())
    log_data = request["log_data"]
    parsed = parse_log(log_data["content"], source="cloudwatch", metadata=log_data["metadata"])
    assert parsed.error_type == "ShaderCompilationError"
    assert parsed.service == "render-engine"
    assert parsed.version == "0.1.0"
    assert parsed.timestamp == "2025-06-30T01:24:27.123Z"
    culprit = parsed.culprit
    assert culprit is not None
    assert (culprit.file, culprit.line, culprit.function) == (
        "src/shader.c",
        45,
        "compile_shader_from_file",
    )
    assert "ERROR: Failed to open shader file: res/shaders/world.vert" in parsed.error_lines
    assert classify(parsed).category == "missing file"


def test_json_camel_case_with_a_nested_error_object() -> None:
    parsed = parse_log(
        {
            "timestamp": "2025-03-01T10:00:00.000Z",
            "severity": "ERROR",
            "serviceName": "checkout",
            "appVersion": "4.2.0",
            "gitCommit": "9fceb02d0ae598e95dc970b74767f19372d61af8",
            "error": {
                "name": "TypeError",
                "message": "Cannot read properties of undefined (reading 'price')",
                "stack": "TypeError: Cannot read properties of undefined (reading 'price')\n"
                "    at lineTotal (/usr/src/app/src/cart.js:14:25)\n"
                "    at Array.map (<anonymous>)\n"
                "    at total (/usr/src/app/src/cart.js:20:18)",
            },
        }
    )
    assert (parsed.level, parsed.service, parsed.version) == ("error", "checkout", "4.2.0")
    assert parsed.commit == "9fceb02d0ae598e95dc970b74767f19372d61af8"
    assert parsed.error_type == "TypeError"
    assert parsed.culprit is not None and parsed.culprit.file == "/usr/src/app/src/cart.js"
    assert parsed.culprit.line == 14


def test_pino_err_with_numeric_level() -> None:
    line = {
        "level": 50,
        "time": 1719710667123,
        "pid": 18,
        "hostname": "api-7d9f",
        "err": {
            "type": "Error",
            "message": "connect ECONNREFUSED 10.0.3.7:5432",
            "stack": "Error: connect ECONNREFUSED 10.0.3.7:5432\n"
            "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)",
            "code": "ECONNREFUSED",
        },
        "msg": "database unavailable",
    }
    parsed = parse_log(json.dumps(line))
    assert parsed.level == "error"
    assert parsed.message == "database unavailable"
    assert parsed.frames and not parsed.frames[0].in_app
    assert classify(parsed).category == "connection refused"


def test_ecs_fields_and_structlog_exc_info() -> None:
    ecs = {
        "@timestamp": "2025-02-11T08:15:00.000Z",
        "log.level": "error",
        "service": {"name": "billing", "version": "1.9.3"},
        "error": {
            "type": "java.lang.IllegalStateException",
            "message": "invoice already closed",
            "stack_trace": "java.lang.IllegalStateException: invoice already closed\n"
            "\tat com.acme.billing.Invoice.close(Invoice.java:88)\n"
            "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
        },
    }
    parsed = parse_log(ecs)
    assert parsed.service == "billing" and parsed.version == "1.9.3"
    assert parsed.culprit is not None and parsed.culprit.file == "com/acme/billing/Invoice.java"
    structlog = {
        "event": "payment failed",
        "level": "error",
        "timestamp": "2025-02-11T08:15:00Z",
        "exc_info": 'Traceback (most recent call last):\n  File "/app/pay.py", line 7, in pay\n'
        "    raise ValueError('amount')\nValueError: amount",
    }
    parsed = parse_log(structlog)
    assert parsed.error_type == "ValueError"
    assert parsed.culprit is not None and parsed.culprit.line == 7


def test_plain_multi_line_text_and_a_log_with_no_error() -> None:
    text = (
        "2025-01-05 10:00:01,123 INFO  [main] app starting\n"
        "2025-01-05 10:00:02,456 ERROR [worker-3] job 812 failed\n"
        "Traceback (most recent call last):\n"
        '  File "/srv/app/jobs.py", line 31, in run\n'
        "    data = load(path)\n"
        "FileNotFoundError: [Errno 2] No such file or directory: '/data/in.csv'\n"
    )
    parsed = parse_log(text)
    assert parsed.format == "text"
    assert parsed.level == "error"
    assert parsed.timestamp == "2025-01-05 10:00:01,123"
    assert parsed.error_type == "FileNotFoundError"
    assert classify(parsed).category == "missing file"
    calm = parse_log("INFO service started\nINFO listening on :8080\nDEBUG cache warm")
    assert calm.level == "info" and calm.error_type is None and calm.frames == []


def test_cloudwatch_logs_subscription_payload() -> None:
    message = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/orders",
        "logStream": "2025/06/30/[$LATEST]abcdef",
        "subscriptionFilters": ["errors"],
        "logEvents": [
            {
                "id": "37977616948223",
                "timestamp": 1719710667123,
                "message": "2025-06-30T01:24:27.123Z\tc1e2f3a4-b5d6-7890-1234-56789abcdef0\tERROR"
                '\tInvoke Error \t{"errorType":"TypeError","errorMessage":"Cannot read '
                'properties of undefined (reading \'id\')","stack":["TypeError: Cannot read '
                "properties of undefined (reading 'id')\",\"    at handler (/var/task/index.js:"
                '12:30)"]}',
            }
        ],
    }
    payload = base64.b64encode(gzip.compress(json.dumps(message).encode())).decode()
    parsed = parse_log({"awslogs": {"data": payload}})
    assert parsed.format == "cloudwatch_subscription"
    assert parsed.service == "/aws/lambda/orders"
    assert parsed.error_type == "TypeError"
    assert parsed.culprit is not None and parsed.culprit.file == "/var/task/index.js"
    assert parsed.fields["aws_request_id"] == "c1e2f3a4-b5d6-7890-1234-56789abcdef0"


def test_lambda_start_end_report_and_a_timeout() -> None:
    text = (
        "START RequestId: 8f3e1d2c-1111-2222-3333-444455556666 Version: $LATEST\n"
        "2025-06-30T01:24:30.001Z 8f3e1d2c-1111-2222-3333-444455556666 Task timed out after "
        "3.00 seconds\n"
        "END RequestId: 8f3e1d2c-1111-2222-3333-444455556666\n"
        "REPORT RequestId: 8f3e1d2c-1111-2222-3333-444455556666\tDuration: 3003.53 ms\t"
        "Billed Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\n"
    )
    parsed = parse_log(text)
    assert parsed.format == "lambda"
    assert parsed.error_type == "LambdaTimeout"
    assert parsed.error_message == "Task timed out after 3.00 seconds"
    assert classify(parsed).category == "timeout"


def test_alb_access_log_5xx_lines() -> None:
    ok = (
        "https 2025-06-30T01:24:27.123456Z app/shop-alb/50dc6c495c0c9188 203.0.113.12:46532 "
        '10.0.0.66:80 0.000 0.048 0.000 200 200 34 366 "GET https://shop.example.com:443/ '
        'HTTP/1.1" "curl/8.4.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 '
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop/73e2d6bc24d8a067 "
        '"Root=1-58337262-36d228ad5d99923122bbe354" "shop.example.com" "-" 0 '
        '2025-06-30T01:24:27.075000Z "forward" "-" "-" "10.0.0.66:80" "200" "-" "-"'
    )
    bad = ok.replace(" 200 200 ", " 502 - ").replace(
        '"GET https://shop.example.com:443/ ', '"POST https://shop.example.com:443/pay '
    )
    parsed = parse_log(ok + "\n" + bad)
    assert parsed.format == "alb"
    assert parsed.error_type == "HTTP 502"
    assert "POST https://shop.example.com:443/pay" in (parsed.error_message or "")
    assert len(parsed.error_lines) == 1
    assert classify(parsed).category == "upstream HTTP error"


def test_azure_monitor_common_alert_schema_log_search() -> None:
    alert = {
        "schemaId": "azureMonitorCommonAlertSchema",
        "data": {
            "essentials": {
                "alertId": "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/a1",
                "alertRule": "api-5xx",
                "severity": "Sev1",
                "signalType": "Log",
                "monitorCondition": "Fired",
                "monitoringService": "Log Alerts V2",
                "alertTargetIDs": [
                    "/subscriptions/s/resourcegroups/rg/providers/microsoft.web/sites/shop-api"
                ],
                "configurationItems": ["shop-api"],
                "firedDateTime": "2025-06-30T01:25:00.000Z",
                "description": "Exceptions in shop-api",
            },
            "alertContext": {
                "SearchResults": {
                    "tables": [
                        {
                            "name": "PrimaryResult",
                            "columns": [
                                {"name": "TimeGenerated", "type": "datetime"},
                                {"name": "ExceptionType", "type": "string"},
                                {"name": "OuterMessage", "type": "string"},
                            ],
                            "rows": [
                                [
                                    "2025-06-30T01:24:58Z",
                                    "System.NullReferenceException",
                                    "Object reference not set to an instance of an object.",
                                ]
                            ],
                        }
                    ]
                }
            },
        },
    }
    parsed = parse_log(alert)
    assert parsed.format == "azure_monitor_alert"
    assert parsed.level == "error"
    assert parsed.service == "shop-api"
    assert parsed.error_type == "System.NullReferenceException"
    assert classify(parsed).category == "null dereference"


def test_application_insights_exception_record() -> None:
    record = {
        "timestamp": "2025-06-30T01:24:58.123Z",
        "problemId": (
            "System.Collections.Generic.KeyNotFoundException at Api.Pricing.PriceTable.Lookup"
        ),
        "type": "System.Collections.Generic.KeyNotFoundException",
        "outerMessage": "The given key 'EUR' was not present in the dictionary.",
        "cloud_RoleName": "pricing-api",
        "details": [
            {
                "outerId": "0",
                "id": "46011447",
                "type": "System.Collections.Generic.KeyNotFoundException",
                "message": "The given key 'EUR' was not present in the dictionary.",
                "parsedStack": [
                    {
                        "level": 0,
                        "method": "System.Collections.Generic.Dictionary`2.get_Item",
                        "assembly": "System.Private.CoreLib",
                        "line": 0,
                    },
                    {
                        "level": 1,
                        "method": "Api.Pricing.PriceTable.Lookup",
                        "assembly": "Api",
                        "fileName": "/src/Api/Pricing/PriceTable.cs",
                        "line": 19,
                    },
                ],
            }
        ],
    }
    parsed = parse_log(record)
    assert parsed.format == "application_insights"
    assert parsed.service == "pricing-api"
    assert parsed.culprit is not None
    assert (parsed.culprit.file, parsed.culprit.line) == ("/src/Api/Pricing/PriceTable.cs", 19)
    assert parsed.frames[0].in_app is False
    assert classify(parsed).category == "key or index error"


def test_container_json_lines_with_kubernetes_metadata() -> None:
    lines = [
        {"log": "INFO starting\n", "stream": "stdout", "time": "2025-06-30T01:24:20.1Z"},
        {
            "log": "panic: runtime error: index out of range [3] with length 3\n",
            "stream": "stderr",
            "time": "2025-06-30T01:24:27.1Z",
            "kubernetes": {
                "pod_name": "orders-6d5f-x2",
                "namespace_name": "shop",
                "container_name": "orders",
                "labels": {"app": "orders"},
            },
        },
        {"log": "\ngoroutine 1 [running]:\n", "stream": "stderr", "time": "2025-06-30T01:24:27.1Z"},
        {"log": "main.pick(...)\n", "stream": "stderr", "time": "2025-06-30T01:24:27.1Z"},
        {"log": "\t/app/main.go:17 +0x1d\n", "stream": "stderr", "time": "2025-06-30T01:24:27.1Z"},
    ]
    parsed = parse_log("\n".join(json.dumps(line) for line in lines))
    assert parsed.format == "container"
    assert parsed.service == "orders"
    assert parsed.fields["kubernetes.namespace_name"] == "shop"
    assert parsed.culprit is not None and (parsed.culprit.file, parsed.culprit.line) == (
        "/app/main.go",
        17,
    )
    assert classify(parsed).category == "key or index error"


def test_syslog_rfc3164_and_rfc5424() -> None:
    old = parse_log("<11>Jun 30 01:24:27 web01 shop-api[2841]: ERROR payment gateway timed out")
    assert old.format == "syslog"
    assert (old.service, old.level) == ("shop-api", "error")
    new = parse_log(
        '<165>1 2025-06-30T01:24:27.003Z web01 shop-api 2841 ID47 [exampleSDID@32473 iut="3"] '
        "database connection refused"
    )
    assert new.format == "syslog"
    assert new.service == "shop-api" and new.timestamp == "2025-06-30T01:24:27.003Z"
    assert classify(new).category == "connection refused"
