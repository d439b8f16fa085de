import sys

from app.runner.supervisor.bootstrap import main

sys.exit(main())
