def shipped_at(order):
    change = order.status_changes.filter(to_status="shipped").last()
    return change.changed_at if change else None
