export interface CustomerView {
  id: string;
  companyName: string;
  domain: string;
  country: string;
  partnerId: string;
  registeredAt: string;
}

export function customerView(customer: {
  customerId: string;
  partnerId: string;
  companyName: string;
  domain: string;
  country: string;
  registeredAt: string;
}): CustomerView {
  return {
    id: customer.customerId,
    companyName: customer.companyName,
    domain: customer.domain,
    country: customer.country,
    partnerId: customer.partnerId,
    registeredAt: customer.registeredAt,
  };
}
