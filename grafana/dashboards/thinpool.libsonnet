{ grafanaDashboards+:: { 'thinpool.json': {} } }
