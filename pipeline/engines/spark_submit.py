"""The command line as a script for ``spark-submit`` (which runs a file, not ``-m``).

``zip -r pipeline.zip pipeline && spark-submit --master spark://HOST:7077 --py-files pipeline.zip
pipeline/engines/spark_submit.py train --engine spark --data PATH``: the master comes from
``spark-submit`` (:func:`pipeline.engines.spark.spark_session`).
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from pipeline.cli import main

    sys.exit(main())
