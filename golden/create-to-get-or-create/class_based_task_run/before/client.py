import requests


class StorefrontClient:
    def __init__(self, domain):
        self.base_url = f"https://{domain}/api/2024-01"

    def list_products(self):
        response = requests.get(f"{self.base_url}/products.json", timeout=15)
        response.raise_for_status()
        return response.json()["products"]
