"""python -m chatbatch.bench"""

import sys

from chatbatch.bench import main

sys.exit(main())
