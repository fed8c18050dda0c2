import json, sys
json.dump("default", sys.stdout)
