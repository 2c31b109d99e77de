/**
 * The python bootstrap: `python3 bootstrap.py TASK_ROOT HANDLER REQUEST_ID DEADLINE_MS FUNCTION_ARN`,
 * the event on stdin. It imports the handler, calls it with (event, context) and writes the outcome as
 * one JSON document to fd 3, so nothing the function prints can corrupt it; prints go to the log.
 */
export const PYTHON_BOOTSTRAP = String.raw`
import importlib, json, logging, os, sys, time, traceback
from decimal import Decimal

RESULT_FD = 3


def _report(obj):
    data = json.dumps(obj).encode('utf-8')
    with os.fdopen(RESULT_FD, 'wb', closefd=True) as f:
        f.write(data)


def _finish(obj):
    try:
        _report(obj)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(0)


def _failure(error_type, message, stack=None):
    sys.stderr.write('[ERROR] %s: %s\n' % (error_type, message))
    if stack:
        sys.stderr.write('Traceback (most recent call last):\n' + ''.join(stack))
    _finish({'ok': False, 'errorType': error_type, 'errorMessage': message, 'stackTrace': stack or []})


def _json_default(o):
    if isinstance(o, Decimal):
        return int(o) if o == o.to_integral_value() else float(o)
    raise TypeError('Object of type %s is not JSON serializable' % type(o).__name__)


class LambdaContext(object):
    def __init__(self, request_id, deadline_ms, arn):
        self.function_name = os.environ.get('AWS_LAMBDA_FUNCTION_NAME')
        self.function_version = os.environ.get('AWS_LAMBDA_FUNCTION_VERSION', '$LATEST')
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = int(os.environ.get('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', '128'))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get('AWS_LAMBDA_LOG_GROUP_NAME')
        self.log_stream_name = os.environ.get('AWS_LAMBDA_LOG_STREAM_NAME')
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, msg):
        sys.stdout.write(str(msg))
        sys.stdout.flush()

    def __repr__(self):
        return 'LambdaContext([aws_request_id=%s,function_name=%s])' % (self.aws_request_id, self.function_name)


def _setup_logging(request_id):
    class _Formatter(logging.Formatter):
        converter = time.gmtime

        def format(self, record):
            record.aws_request_id = request_id
            return super(_Formatter, self).format(record)

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_Formatter('[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s', '%Y-%m-%dT%H:%M:%S'))
    root = logging.getLogger()
    root.addHandler(handler)


def main():
    os.set_inheritable(RESULT_FD, False)
    task_root, handler, request_id, deadline_ms, arn = sys.argv[1:6]
    raw = sys.stdin.buffer.read()
    event = json.loads(raw.decode('utf-8')) if raw.strip() else {}
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    _setup_logging(request_id)

    module_name, _, function_name = handler.rpartition('.')
    module_name = module_name.replace('/', '.')
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as e:
        _failure('Runtime.UserCodeSyntaxError', "Syntax error in module '%s': %s" % (module_name, e))
    except Exception as e:
        _failure('Runtime.ImportModuleError', "Unable to import module '%s': %s" % (module_name, e))
    fn = getattr(module, function_name, None)
    if fn is None or not callable(fn):
        _failure('Runtime.HandlerNotFound', "Handler '%s' missing on module '%s'" % (function_name, module_name))

    context = LambdaContext(request_id, int(deadline_ms), arn)
    try:
        result = fn(event, context)
    except Exception as e:
        stack = traceback.format_list(traceback.extract_tb(e.__traceback__)[1:])
        _failure(type(e).__name__, str(e), stack)
    try:
        payload = json.dumps(result, allow_nan=False, default=_json_default)
    except Exception as e:
        _failure('Runtime.MarshalError', 'Unable to marshal response: %s' % e)
    _finish({'ok': True, 'payload': payload})


main()
`;
