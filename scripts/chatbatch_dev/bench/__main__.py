"""python -m chatbatch_dev.bench"""

import sys

from chatbatch_dev.bench import main

sys.exit(main())
