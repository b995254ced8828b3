from support.s3_server import s3_bucket as s3_bucket
from support.s3_server import s3_server as s3_server
